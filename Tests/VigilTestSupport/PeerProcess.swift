import Foundation

/// A long-running peer (a Modbus server, socat, `vigil run`) with its output
/// collected; terminated when the test is done with it.
public final class PeerProcess: @unchecked Sendable {
    public let process = Process()
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""
    private let outPipe = Pipe(), errPipe = Pipe()

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        outPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let data = h.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock(); self.outText += String(decoding: data, as: UTF8.self); self.lock.unlock()
        }
        errPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let data = h.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock(); self.errText += String(decoding: data, as: UTF8.self); self.lock.unlock()
        }
        try process.run()
    }

    public var stdout: String { lock.lock(); defer { lock.unlock() }; return outText }
    public var stderr: String { lock.lock(); defer { lock.unlock() }; return errText }

    /// Waits until stdout or stderr contains `text`.
    @discardableResult
    public func waitFor(_ text: String, timeout: TimeInterval = 15) -> Bool {
        eventually(timeout: timeout) { stdout.contains(text) || stderr.contains(text) || !process.isRunning }
            && (stdout.contains(text) || stderr.contains(text))
    }

    public func signal(_ sig: Int32) { if process.isRunning { kill(process.processIdentifier, sig) } }

    /// Stops the peer (SIGTERM, then SIGKILL) and returns its exit status.
    @discardableResult
    public func stop(timeout: TimeInterval = 5) -> Int32 {
        if process.isRunning {
            process.terminate()
            if !eventually(timeout: timeout, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        outPipe.fileHandleForReading.readabilityHandler = nil
        errPipe.fileHandleForReading.readabilityHandler = nil
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// A pymodbus server serving `registers` (see Tests/Peers/modbus_server.py).
public func startPymodbus(tcpPort: Int? = nil, serial: String? = nil, rtuOverTCPPort: Int? = nil, unit: Int = 1,
                          registers: [String: [String: [Any]]]) throws -> PeerProcess {
    let python = try requirePymodbus()
    let json = String(decoding: try JSONSerialization.data(withJSONObject: registers), as: UTF8.self)
    var args = [Repo.peerScript("modbus_server.py"), "--unit", String(unit), "--registers", json]
    if let tcpPort { args += ["--tcp", String(tcpPort)] }
    if let serial { args += ["--serial", serial] }
    if let rtuOverTCPPort { args += ["--rtu-over-tcp", String(rtuOverTCPPort)] }
    let peer = try PeerProcess(python, args)
    guard peer.waitFor("ready") else {
        peer.stop()
        throw MissingPeer(description: "pymodbus server did not start: \(peer.stderr)")
    }
    return peer
}

/// Two connected pseudo-terminals from socat: a virtual RS-485 line.
public final class SerialLinePair {
    public let peer: PeerProcess
    public let agentSide: String
    public let deviceSide: String

    /// `agentSide`: reuse a name (an adapter plugged back in); default a new one.
    public init(agentSide: String? = nil) throws {
        let socat = try requirePeer("socat")
        let dir = temporaryDirectory()
        self.agentSide = agentSide ?? "\(dir)/agent"
        deviceSide = "\(dir)/device"
        let agentSide = self.agentSide
        peer = try PeerProcess(socat, ["-d", "-d", "pty,raw,echo=0,link=\(agentSide)", "pty,raw,echo=0,link=\(deviceSide)"])
        guard eventually(timeout: 10, { FileManager.default.fileExists(atPath: agentSide) && FileManager.default.fileExists(atPath: deviceSide) }) else {
            throw MissingPeer(description: "socat did not create the pty pair: \(peer.stderr)")
        }
    }

    deinit { peer.stop() }
}

/// A serial device server in transparent mode, played by socat: each TCP connection
/// to `port` is the serial line's agent side, bytes as they are (RTU over TCP).
public final class SerialDeviceServer {
    public let peer: PeerProcess
    public let port: Int

    public init(line: SerialLinePair, port: Int = freeTCPPort()) throws {
        let socat = try requirePeer("socat")
        self.port = port
        peer = try PeerProcess(socat, ["-d", "-d", "TCP-LISTEN:\(port),bind=127.0.0.1,reuseaddr,fork", "FILE:\(line.agentSide),raw,echo=0"])
        guard peer.waitFor("listening on") else { throw MissingPeer(description: "socat did not listen on \(port): \(peer.stderr)") }
    }

    deinit { peer.stop() }
}

import Foundation
import XCTest

/// Paths in the source tree and the test peers it uses.
public enum Repo {
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static func path(_ relative: String) -> String { "\(root)/\(relative)" }

    /// The git-ignored virtual environment `make deps` fills with pymodbus.
    public static var python: String { path(".venv/bin/python") }

    public static func peerScript(_ name: String) -> String { path("Tests/Peers/\(name)") }

    /// The `vigil` binary built by `swift build` (make test builds it first).
    public static var vigil: String {
        let candidates = [".build/debug/vigil", ".build/x86_64-unknown-linux-gnu/debug/vigil", ".build/aarch64-unknown-linux-gnu/debug/vigil"]
        return candidates.map(path).first { FileManager.default.isExecutableFile(atPath: $0) } ?? path(".build/debug/vigil")
    }
}

/// A test peer that is not on this machine: skipped on a developer's machine,
/// a failure under CI=true (CI must have every peer).
public struct MissingPeer: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

public func requirePeer(_ name: String, at path: String? = nil) throws -> String {
    let found: String?
    if let path {
        found = FileManager.default.isExecutableFile(atPath: path) ? path : nil
    } else {
        found = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
    if let found { return found }
    let message = "\(name) is not installed (run `make deps`)"
    if ProcessInfo.processInfo.environment["CI"] == "true" { throw MissingPeer(description: message) }
    throw XCTSkip(message)
}

/// pymodbus in the repo's virtual environment.
public func requirePymodbus() throws -> String {
    let python = try requirePeer("python (.venv)", at: Repo.python)
    let check = try runCommand(python, ["-c", "import pymodbus, serial"])
    if check.status != 0 {
        let message = "pymodbus is not installed in .venv (run `make deps`)"
        if ProcessInfo.processInfo.environment["CI"] == "true" { throw MissingPeer(description: message) }
        throw XCTSkip(message)
    }
    return python
}

/// Runs a command to completion; returns its exit status and output.
@discardableResult
public func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: TimeInterval = 60) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes while the process runs so a full pipe cannot block it.
    nonisolated(unsafe) var outData = Data(), errData = Data()
    let group = DispatchGroup()
    group.enter(); DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter(); DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    group.wait()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// Polls `condition` until it holds or `timeout` passes.
public func eventually(timeout: TimeInterval = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// A TCP port nothing listens on right now.
public func freeTCPPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

public func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "vigil-test-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

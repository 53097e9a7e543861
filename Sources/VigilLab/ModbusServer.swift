import CModbus
import Glibc
import VigilCore
import VigilModbus
import VigilThreads

/// How the server answers one request.
public enum ModbusServerReply {
    /// Answer from this device's tables (libmodbus checks addresses and functions).
    case answer(ModbusRegisterMap)
    /// Answer after a delay, to simulate a slow device.
    case answerAfter(milliseconds: Int, ModbusRegisterMap)
    /// Answer with a Modbus exception.
    case exception(ModbusExceptionCode)
    /// Stay silent, as an absent or dead device does.
    case silence
}

/// A Modbus slave/server on libmodbus's server API, on TCP (many clients) or
/// on a serial line (RTU, every unit id `reply` answers: see RTURequestFramer).
/// It runs on the calling thread until `shouldStop` returns true, calling
/// `tick` between requests at least every `tickMs`.
/// It may be created on one thread and handed to another, but used by one at a time.
public final class ModbusServer: @unchecked Sendable {
    private let context: OpaquePointer
    private let transport: BusTransport
    private var listenSocket: Int32 = -1
    /// Bytes on the serial line that were no valid request (noise, a torn frame).
    public private(set) var discardedBytes = 0

    public init(transport: BusTransport) throws(ModbusError) {
        self.transport = transport
        switch transport {
        case .tcp(let host, let port):
            guard let ctx = modbus_new_tcp_pi(host, String(port)) else { throw .openFailed("\(host):\(port)") }
            context = ctx
            listenSocket = modbus_tcp_pi_listen(ctx, 16)
            // No modbus_free on failure: the object is fully initialized here, so deinit frees the context.
            if listenSocket < 0 {
                let e = CModbus_errno()
                throw .openFailed("\(host):\(port): \(String(cString: strerror(e)))")
            }
        case .rtu(let serial):
            let parity: CChar = switch serial.parity {
            case .none: CChar(UInt8(ascii: "N"))
            case .even: CChar(UInt8(ascii: "E"))
            case .odd: CChar(UInt8(ascii: "O"))
            }
            guard let ctx = modbus_new_rtu(serial.device, Int32(serial.baud), parity, Int32(serial.dataBits), Int32(serial.stopBits)) else {
                throw .openFailed(serial.device)
            }
            context = ctx
            if modbus_connect(ctx) != 0 {
                let e = CModbus_errno()
                throw .openFailed("\(serial.device): \(String(cString: strerror(e)))")
            }
        case .rtuOverTCP(let host, let port, _):
            // A device server's side: RTU frames (the RTU backend writes the answers) on accepted
            // TCP connections. A TCP context only to listen with (it keeps no descriptor of it).
            guard let ctx = modbus_new_rtu("rtu-over-tcp", 9600, CChar(UInt8(ascii: "N")), 8, 1),
                  let listener = modbus_new_tcp_pi(host, String(port)) else { throw .openFailed("\(host):\(port)") }
            context = ctx
            listenSocket = modbus_tcp_pi_listen(listener, 16)
            let e = CModbus_errno()
            modbus_free(listener)
            if listenSocket < 0 { throw .openFailed("\(host):\(port): \(String(cString: strerror(e)))") }
        }
    }

    deinit {
        if listenSocket >= 0 { Glibc.close(listenSocket) }
        modbus_close(context)
        modbus_free(context)
    }

    public func run(tickMs: Int32 = 100, shouldStop: () -> Bool, tick: () -> Void,
                    reply: (_ unit: Int) -> ModbusServerReply) {
        switch transport {
        case .rtu(let serial): runRTU(serial, tickMs: tickMs, shouldStop: shouldStop, tick: tick, reply: reply)
        case .tcp: runTCP(tickMs: tickMs, shouldStop: shouldStop, tick: tick, reply: reply)
        case .rtuOverTCP: runRTUOverTCP(tickMs: tickMs, shouldStop: shouldStop, tick: tick, reply: reply)
        }
    }

    private func runTCP(tickMs: Int32, shouldStop: () -> Bool, tick: () -> Void, reply: (_ unit: Int) -> ModbusServerReply) {
        var query = [UInt8](repeating: 0, count: Int(CModbus_MAX_ADU_LENGTH))
        let headerLength = Int(modbus_get_header_length(context))
        var clients: [Int32] = []
        defer { clients.forEach { _ = Glibc.close($0) } }
        var ticker = Ticker(everyMs: tickMs)
        while !shouldStop() {
            ticker.tickIfDue(tick)
            var fds = clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            fds.append(pollfd(fd: listenSocket, events: Int16(POLLIN), revents: 0))
            if poll(&fds, nfds_t(fds.count), tickMs) <= 0 { continue }
            for entry in fds where entry.revents != 0 {
                if entry.fd == listenSocket {
                    var s = listenSocket
                    let client = modbus_tcp_pi_accept(context, &s)
                    if client >= 0 { clients.append(client) }
                    continue
                }
                modbus_set_socket(context, entry.fd)
                let rc = query.withUnsafeMutableBufferPointer { modbus_receive(context, $0.baseAddress) }
                if rc < 0 {
                    Glibc.close(entry.fd)
                    clients.removeAll { $0 == entry.fd }
                    continue
                }
                if rc > 0 { answer(Array(query[0..<Int(rc)]), unit: Int(query[headerLength - 1]), reply: reply) }
            }
        }
    }

    /// Reads the line itself and cuts requests by function code and CRC, so
    /// every unit is served and a frame for another unit costs nothing.
    private func runRTU(_ serial: SerialSettings, tickMs: Int32, shouldStop: () -> Bool, tick: () -> Void,
                        reply: (_ unit: Int) -> ModbusServerReply) {
        let fd = modbus_get_socket(context)
        // 3.5 character times end a frame; a USB adapter or a pty delivers in bursts, so never under 20 ms.
        let gapMs = max(20, Int32((35_000 * (1 + serial.dataBits + serial.stopBits + (serial.parity == .none ? 0 : 1))) / (10 * max(1, serial.baud))) + 1)
        var framer = RTURequestFramer()
        var chunk = [UInt8](repeating: 0, count: 512)
        var ticker = Ticker(everyMs: tickMs)
        while !shouldStop() {
            ticker.tickIfDue(tick)
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, framer.isEmpty ? tickMs : gapMs)
            if ready == 0 {
                framer.silence()
            } else if ready > 0 {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n > 0 { framer.append(chunk[0..<n]) }
            }
            while let request = framer.next() { answer(request, unit: Int(request[0]), reply: reply) }
            discardedBytes = framer.discardedBytes
        }
    }

    /// As on a serial line, per connection: requests cut by function code and CRC,
    /// a pause of 20 ms ends a torn frame.
    private func runRTUOverTCP(tickMs: Int32, shouldStop: () -> Bool, tick: () -> Void, reply: (_ unit: Int) -> ModbusServerReply) {
        struct Connection { var fd: Int32; var framer = RTURequestFramer(); var lastByteNanos: Int64 = 0 }
        let gapNanos: Int64 = 20_000_000
        var connections: [Connection] = []
        defer { connections.forEach { _ = Glibc.close($0.fd) } }
        var chunk = [UInt8](repeating: 0, count: 512)
        var ticker = Ticker(everyMs: tickMs)
        var discardedByClosed = 0
        while !shouldStop() {
            ticker.tickIfDue(tick)
            var fds = connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            fds.append(pollfd(fd: listenSocket, events: Int16(POLLIN), revents: 0))
            let pending = connections.contains { !$0.framer.isEmpty }
            _ = poll(&fds, nfds_t(fds.count), pending ? 20 : tickMs)
            let now = monotonicNanos()
            var closed: [Int32] = []
            for i in connections.indices {
                if fds[i].revents != 0 {
                    let n = chunk.withUnsafeMutableBytes { Glibc.read(connections[i].fd, $0.baseAddress, $0.count) }
                    if n <= 0 { closed.append(connections[i].fd); continue }
                    connections[i].framer.append(chunk[0..<n])
                    connections[i].lastByteNanos = now
                } else if !connections[i].framer.isEmpty, now - connections[i].lastByteNanos >= gapNanos {
                    connections[i].framer.silence()
                }
                modbus_set_socket(context, connections[i].fd)
                while let request = connections[i].framer.next() { answer(request, unit: Int(request[0]), reply: reply) }
            }
            for fd in closed {
                discardedByClosed += connections.first { $0.fd == fd }?.framer.discardedBytes ?? 0
                Glibc.close(fd)
                connections.removeAll { $0.fd == fd }
            }
            if fds[fds.count - 1].revents != 0 {
                let fd = accept(listenSocket, nil, nil)
                if fd >= 0 { connections.append(Connection(fd: fd)) }
            }
            discardedBytes = discardedByClosed + connections.reduce(0) { $0 + $1.framer.discardedBytes }
        }
    }

    private func answer(_ query: [UInt8], unit: Int, reply: (_ unit: Int) -> ModbusServerReply) {
        let length = Int32(query.count)
        switch reply(unit) {
        case .answer(let map):
            _ = query.withUnsafeBufferPointer { modbus_reply(context, $0.baseAddress, length, map.mapping) }
        case .answerAfter(let ms, let map):
            usleep(useconds_t(ms * 1000))
            _ = query.withUnsafeBufferPointer { modbus_reply(context, $0.baseAddress, length, map.mapping) }
        case .exception(let code):
            _ = query.withUnsafeBufferPointer { modbus_reply_exception(context, $0.baseAddress, UInt32(code.rawValue)) }
        case .silence:
            break
        }
    }
}

/// Calls `tick` at most every `everyMs`, first at once.
private struct Ticker {
    let everyMs: Int32
    private var last: Int64 = .min

    init(everyMs: Int32) { self.everyMs = everyMs }

    mutating func tickIfDue(_ tick: () -> Void) {
        let now = monotonicNanos()
        guard last == .min || now - last >= Int64(everyMs) * 1_000_000 else { return }
        tick()
        last = now
    }
}

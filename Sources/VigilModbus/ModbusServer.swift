import CModbus
import Glibc
import VigilCore

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
/// on a serial line (RTU). It runs on the calling thread until `shouldStop`
/// returns true, calling `tick` between requests at least every `tickMs`.
/// It may be created on one thread and handed to another, but used by one at a time.
public final class ModbusServer: @unchecked Sendable {
    private let context: OpaquePointer
    private let transport: BusTransport
    private var listenSocket: Int32 = -1

    /// `unit` matters for RTU only: libmodbus's RTU server answers one unit id.
    public init(transport: BusTransport, rtuUnit: Int = 1) throws(ModbusError) {
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
            modbus_set_slave(ctx, Int32(rtuUnit))
            if modbus_connect(ctx) != 0 {
                let e = CModbus_errno()
                throw .openFailed("\(serial.device): \(String(cString: strerror(e)))")
            }
        }
    }

    deinit {
        if listenSocket >= 0 { Glibc.close(listenSocket) }
        modbus_close(context)
        modbus_free(context)
    }

    public func run(tickMs: Int32 = 100, shouldStop: () -> Bool, tick: () -> Void,
                    reply: (_ unit: Int) -> ModbusServerReply) {
        var query = [UInt8](repeating: 0, count: Int(CModbus_MAX_ADU_LENGTH))
        let headerLength = Int(modbus_get_header_length(context))
        var clients: [Int32] = []
        if case .rtu = transport { clients = [modbus_get_socket(context)] }
        defer { if case .tcp = transport { clients.forEach { _ = Glibc.close($0) } } }

        var lastTick: Int64 = .min
        while !shouldStop() {
            let now = monotonicNanos()
            if lastTick == .min || now - lastTick >= Int64(tickMs) * 1_000_000 {
                tick()
                lastTick = now
            }
            var fds = clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if listenSocket >= 0 { fds.append(pollfd(fd: listenSocket, events: Int16(POLLIN), revents: 0)) }
            let n = poll(&fds, nfds_t(fds.count), tickMs)
            if n <= 0 { continue }
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
                    if case .tcp = transport {
                        Glibc.close(entry.fd)
                        clients.removeAll { $0 == entry.fd }
                    } else {
                        _ = modbus_flush(context)
                    }
                    continue
                }
                if rc == 0 { continue } // a frame for another unit
                let unit = Int(query[headerLength - 1])
                switch reply(unit) {
                case .answer(let map):
                    _ = query.withUnsafeBufferPointer { modbus_reply(context, $0.baseAddress, rc, map.mapping) }
                case .answerAfter(let ms, let map):
                    usleep(useconds_t(ms * 1000))
                    _ = query.withUnsafeBufferPointer { modbus_reply(context, $0.baseAddress, rc, map.mapping) }
                case .exception(let code):
                    _ = query.withUnsafeBufferPointer { modbus_reply_exception(context, $0.baseAddress, UInt32(code.rawValue)) }
                case .silence:
                    break
                }
            }
        }
    }
}

import CModbus
import Glibc
import VigilCore

/// A Modbus master over one serial line or TCP endpoint: a typed wrapper over
/// one libmodbus context. A context is not thread-safe, so a client belongs to
/// the one thread that created it (a bus worker).
public final class ModbusClient {
    private var context: OpaquePointer?
    public let transport: BusTransport
    public private(set) var isConnected = false
    private var currentUnit = -1
    private var timeoutMs: Int

    public init(transport: BusTransport, timeoutMs: Int) throws(ModbusError) {
        self.transport = transport
        switch transport {
        case .tcp(let host, let port):
            context = modbus_new_tcp_pi(host, String(port))
        case .rtu(let serial):
            let parity: CChar = switch serial.parity {
            case .none: CChar(UInt8(ascii: "N"))
            case .even: CChar(UInt8(ascii: "E"))
            case .odd: CChar(UInt8(ascii: "O"))
            }
            context = modbus_new_rtu(serial.device, Int32(serial.baud), parity, Int32(serial.dataBits), Int32(serial.stopBits))
        case .rtuOverTCP:
            // The RTU backend on a socket we connect (DeviceServerSocket): the device name is never opened.
            context = modbus_new_rtu("rtu-over-tcp", 9600, CChar(UInt8(ascii: "N")), 8, 1)
        }
        self.timeoutMs = timeoutMs
        guard context != nil else { throw .openFailed(String(cString: modbus_strerror(CModbus_errno()))) }
        setTimeout(ms: timeoutMs)
    }

    deinit {
        close()
        modbus_free(context)
    }

    /// Response timeout; the byte timeout (gap allowed inside one frame) is kept
    /// no longer than it, since with a byte timeout set the response timeout
    /// covers only the first byte.
    public func setTimeout(ms: Int) {
        timeoutMs = ms
        modbus_set_response_timeout(context, UInt32(ms / 1000), UInt32((ms % 1000) * 1000))
        let byteMs = min(ms, 500)
        modbus_set_byte_timeout(context, UInt32(byteMs / 1000), UInt32((byteMs % 1000) * 1000))
    }

    public func connect() throws(ModbusError) {
        guard !isConnected else { return }
        if case .rtuOverTCP(let host, let port, _) = transport {
            modbus_set_socket(context, try DeviceServerSocket.connect(host: host, port: port, timeoutMs: timeoutMs))
        } else if modbus_connect(context) != 0 {
            let e = CModbus_errno()
            let hint = if case .rtu = transport { ServiceAccess.serialOpenHint(errno: e) } else { "" }
            throw .openFailed("\(transport.endpointName): \(String(cString: strerror(e)))\(hint)")
        }
        // RS-485 mode must be set after connect (libmodbus 3.1.6 gives EBADF before).
        if case .rtu(let serial) = transport, serial.rs485 {
            if modbus_rtu_set_serial_mode(context, CModbus_RTU_RS485) != 0 {
                let e = CModbus_errno()
                modbus_close(context)
                throw .openFailed("\(serial.device): kernel RS-485 mode not supported (\(String(cString: strerror(e))))")
            }
        }
        isConnected = true
        currentUnit = -1
    }

    public func close() {
        guard isConnected else { return }
        modbus_close(context)
        isConnected = false
    }

    /// Drops whatever is waiting on the line (after a timeout or a garbled frame).
    public func flush() {
        guard isConnected else { return }
        if case .rtuOverTCP = transport { DeviceServerSocket.drain(modbus_get_socket(context)) } else { _ = modbus_flush(context) }
    }

    private func select(unit: Int) {
        if unit != currentUnit {
            modbus_set_slave(context, Int32(unit))
            currentUnit = unit
        }
    }

    /// Reads `count` registers from a holding or input table.
    public func readRegisters(unit: Int, table: RegisterTable, address: Int, count: Int) throws(ModbusError) -> [UInt16] {
        precondition(!table.isBitTable)
        select(unit: unit)
        var words = [UInt16](repeating: 0, count: count)
        let rc = words.withUnsafeMutableBufferPointer { buffer in
            table == .holding
                ? modbus_read_registers(context, Int32(address), Int32(count), buffer.baseAddress)
                : modbus_read_input_registers(context, Int32(address), Int32(count), buffer.baseAddress)
        }
        if rc < 0 { throw ModbusError.fromErrno(CModbus_errno()) }
        if rc != count { throw .badResponse("\(rc) registers instead of \(count)") }
        return words
    }

    /// Reads `count` coils or discrete inputs.
    public func readBits(unit: Int, table: RegisterTable, address: Int, count: Int) throws(ModbusError) -> [Bool] {
        precondition(table.isBitTable)
        select(unit: unit)
        var bits = [UInt8](repeating: 0, count: count)
        let rc = bits.withUnsafeMutableBufferPointer { buffer in
            table == .coil
                ? modbus_read_bits(context, Int32(address), Int32(count), buffer.baseAddress)
                : modbus_read_input_bits(context, Int32(address), Int32(count), buffer.baseAddress)
        }
        if rc < 0 { throw ModbusError.fromErrno(CModbus_errno()) }
        if rc != count { throw .badResponse("\(rc) bits instead of \(count)") }
        return bits.map { $0 != 0 }
    }

    /// Writes holding registers (function 16, or 6 for one register).
    public func writeRegisters(unit: Int, address: Int, _ words: [UInt16]) throws(ModbusError) {
        select(unit: unit)
        let rc = words.count == 1
            ? modbus_write_register(context, Int32(address), words[0])
            : words.withUnsafeBufferPointer { modbus_write_registers(context, Int32(address), Int32(words.count), $0.baseAddress) }
        if rc < 0 { throw ModbusError.fromErrno(CModbus_errno()) }
    }

    /// Writes coils (function 15, or 5 for one coil).
    public func writeCoils(unit: Int, address: Int, _ bits: [Bool]) throws(ModbusError) {
        select(unit: unit)
        let bytes = bits.map { UInt8($0 ? 1 : 0) }
        let rc = bytes.count == 1
            ? modbus_write_bit(context, Int32(address), Int32(bytes[0]))
            : bytes.withUnsafeBufferPointer { modbus_write_bits(context, Int32(address), Int32(bytes.count), $0.baseAddress) }
        if rc < 0 { throw ModbusError.fromErrno(CModbus_errno()) }
    }
}

/// libmodbus's version, for support bundles.
public var libmodbusVersion: String { "\(libmodbus_version_major).\(libmodbus_version_minor).\(libmodbus_version_micro)" }

import CModbus
import Glibc
import VigilCore

/// A Modbus exception code sent back by a device, with its spec name.
public enum ModbusExceptionCode: Int, Sendable, CaseIterable {
    case illegalFunction = 1
    case illegalDataAddress = 2
    case illegalDataValue = 3
    case serverDeviceFailure = 4
    case acknowledge = 5
    case serverDeviceBusy = 6
    case negativeAcknowledge = 7
    case memoryParityError = 8
    case gatewayPathUnavailable = 10
    case gatewayTargetFailedToRespond = 11

    public var name: String {
        switch self {
        case .illegalFunction: return "illegal function"
        case .illegalDataAddress: return "illegal data address"
        case .illegalDataValue: return "illegal data value"
        case .serverDeviceFailure: return "server device failure"
        case .acknowledge: return "acknowledge"
        case .serverDeviceBusy: return "server device busy"
        case .negativeAcknowledge: return "negative acknowledge"
        case .memoryParityError: return "memory parity error"
        case .gatewayPathUnavailable: return "gateway path unavailable"
        case .gatewayTargetFailedToRespond: return "gateway target failed to respond"
        }
    }
}

/// What went wrong with one Modbus request, from libmodbus's errno.
public enum ModbusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No (complete) response within the timeout.
    case timeout
    /// A response whose CRC does not match: noise, wrong baud rate or parity.
    case badCRC
    /// The device answered with a Modbus exception.
    case exception(ModbusExceptionCode)
    /// A response that does not fit the request (short, wrong function, bad data).
    case badResponse(String)
    /// A response from another unit id.
    case wrongUnit
    /// The connection or the serial port failed; it must be reopened.
    case connectionLost(Int32)
    /// The port or connection could not be opened.
    case openFailed(String)

    public var description: String {
        switch self {
        case .timeout: return "timeout"
        case .badCRC: return "bad CRC"
        case .exception(let code): return "exception \(code.rawValue) (\(code.name))"
        case .badResponse(let why): return "bad response: \(why)"
        case .wrongUnit: return "response from the wrong unit id"
        case .connectionLost(let e): return "connection lost: \(String(cString: strerror(e)))"
        case .openFailed(let why): return "cannot open: \(why)"
        }
    }

    /// True when the device did answer (an exception is an answer).
    public var deviceAnswered: Bool {
        if case .exception = self { return true }
        return false
    }

    /// True when the port or connection must be closed and opened again.
    public var needsReconnect: Bool {
        switch self {
        case .connectionLost, .openFailed: return true
        default: return false
        }
    }

    /// True when stale bytes may be left on the line: flush before the next request.
    public var needsFlush: Bool {
        switch self {
        case .timeout, .badCRC, .badResponse, .wrongUnit: return true
        default: return false
        }
    }

    /// Classifies the errno left by a failed libmodbus call.
    static func fromErrno(_ e: Int32) -> ModbusError {
        let base = CModbus_ENOBASE
        if e > base && e <= CModbus_EMBXGTAR, let code = ModbusExceptionCode(rawValue: Int(e - base)) {
            return .exception(code)
        }
        switch e {
        case ETIMEDOUT: return .timeout
        case CModbus_EMBBADCRC: return .badCRC
        case CModbus_EMBBADSLAVE: return .wrongUnit
        case CModbus_EMBBADDATA: return .badResponse("invalid data")
        case CModbus_EMBMDATA: return .badResponse("too many data")
        case CModbus_EMBBADEXC: return .badResponse("invalid exception code")
        case CModbus_EMBUNKEXC: return .badResponse("unknown exception code")
        case CModbus_EMBXILFUN...CModbus_EMBXGTAR: return .badResponse("exception code \(e - base)")
        default: return .connectionLost(e)
        }
    }
}

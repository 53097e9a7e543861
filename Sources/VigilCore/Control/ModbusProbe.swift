/// A technician's one-off Modbus request (`vigil diag read|write|scan`): run
/// by the bus worker that owns the line, between its polls, or directly on a
/// line no agent owns.
public struct ModbusProbe: Codable, Sendable, Equatable {
    public enum Operation: String, Codable, Sendable { case read, write }
    public var operation: Operation
    public var unit: Int
    public var table: RegisterTable
    public var address: Int
    public var count: Int
    /// For writes: register words, or 0/1 for coils.
    public var values: [UInt16]?
    /// A shorter timeout than the bus's (a scan asks many units that are not there).
    public var timeoutMs: Int?

    public init(operation: Operation, unit: Int, table: RegisterTable, address: Int, count: Int, values: [UInt16]? = nil, timeoutMs: Int? = nil) {
        self.operation = operation; self.unit = unit; self.table = table; self.address = address; self.count = count
        self.values = values; self.timeoutMs = timeoutMs
    }

    /// The function code it sends.
    public var function: UInt8 {
        switch (operation, table) {
        case (.read, .coil): 1
        case (.read, .discrete): 2
        case (.read, .holding): 3
        case (.read, .input): 4
        case (.write, .coil): count == 1 ? 5 : 15
        case (.write, _): count == 1 ? 6 : 16
        }
    }

    /// The request's PDU (function code and data) as hex, as it goes on the wire
    /// inside libmodbus's framing (MBAP header on TCP; unit and CRC on RTU).
    public var requestHex: String {
        var bytes: [UInt8] = [function] + Self.be(address)
        switch (operation, function) {
        case (.read, _): bytes += Self.be(count)
        case (.write, 5): bytes += (values?.first ?? 0) != 0 ? [0xFF, 0x00] : [0x00, 0x00]
        case (.write, 6): bytes += Self.be(Int(values?.first ?? 0))
        case (.write, 15):
            let packed = Self.pack((values ?? []).map { $0 != 0 })
            bytes += Self.be(count) + [UInt8(packed.count)] + packed
        default:
            bytes += Self.be(count) + [UInt8(2 * count)] + (values ?? []).flatMap { Self.be(Int($0)) }
        }
        return Self.hex(bytes)
    }

    /// The PDU of a normal answer, rebuilt from what libmodbus returned.
    public func responseHex(words: [UInt16]?, bits: [Bool]?) -> String {
        switch operation {
        case .write: return Self.hex([function] + Self.be(address) + Self.be(function == 5 || function == 6 ? Int(values?.first ?? 0) : count))
        case .read:
            let data = bits.map(Self.pack) ?? (words ?? []).flatMap { Self.be(Int($0)) }
            return Self.hex([function, UInt8(truncatingIfNeeded: data.count)] + data)
        }
    }

    public func exceptionHex(_ code: Int) -> String { Self.hex([function | 0x80, UInt8(truncatingIfNeeded: code)]) }

    static func be(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
    static func pack(_ bits: [Bool]) -> [UInt8] {
        stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<min(start + 8, bits.count)].enumerated().reduce(UInt8(0)) { $0 | ($1.element ? 1 << $1.offset : 0) }
        }
    }
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for (i, b) in bytes.enumerated() {
            if i > 0 { out.append(0x20) }
            out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// What a probe got back.
public struct ProbeAnswer: Codable, Sendable, Equatable {
    public var words: [UInt16]?
    public var bits: [Bool]?
    /// The failure, as in readings' `error` (timeout, bad CRC, exception 2 (illegal data address), …).
    public var error: String?
    /// Set when the device answered with an exception: it is there, it refused.
    public var exception: Int?
    public var milliseconds: Double
    public var request: String
    public var response: String?
    /// Which way it went: "bus sim (through the agent)" or "/dev/ttyUSB0 (direct)".
    public var path: String

    public init(words: [UInt16]? = nil, bits: [Bool]? = nil, error: String? = nil, exception: Int? = nil, milliseconds: Double,
                request: String, response: String?, path: String) {
        self.words = words; self.bits = bits; self.error = error; self.exception = exception; self.milliseconds = milliseconds
        self.request = request; self.response = response; self.path = path
    }

    /// The device answered (normally or with an exception).
    public var answered: Bool { error == nil || exception != nil }
}

/// One request and its answer, as the bus worker keeps them for `vigil diag frames`.
public struct FrameRecord: Codable, Sendable, Equatable {
    public var time: String
    public var unit: Int
    public var request: String
    public var response: String?
    public var error: String?
    public var milliseconds: Double
    /// Who sent it: "poll DEVICE" or "diag".
    public var origin: String

    public init(time: String, unit: Int, request: String, response: String?, error: String?, milliseconds: Double, origin: String) {
        self.time = time; self.unit = unit; self.request = request; self.response = response; self.error = error
        self.milliseconds = milliseconds; self.origin = origin
    }
}

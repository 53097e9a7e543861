/// Sparkplug B 3.0's payload (sparkplug_b.proto, `org.eclipse.tahu.protobuf.Payload`):
/// the fields Vigil writes and reads. Field numbers are the schema's.
public enum SparkplugDataType: UInt32, Sendable {
    case int8 = 1, int16 = 2, int32 = 3, int64 = 4, uint8 = 5, uint16 = 6, uint32 = 7, uint64 = 8
    case float = 9, double = 10, boolean = 11, string = 12

    /// The type a point's readings carry: the register type, or Double once scaled.
    public init(point: PointSpec) {
        let scaled = point.scale != 1 || point.offset != 0 || point.decimalsFrom != nil
        switch point.type {
        case .bool: self = .boolean
        case .string: self = .string
        case _ where scaled: self = .double
        case .int16: self = .int16
        case .uint16: self = .uint16
        case .int32: self = .int32
        case .uint32: self = .uint32
        case .int64: self = .int64
        case .uint64: self = .uint64
        case .float32: self = .float
        case .float64: self = .double
        }
    }
}

public enum SparkplugValue: Sendable, Equatable {
    case int(Int64), uint(UInt64), float(Float), double(Double), bool(Bool), string(String)
}

public struct SparkplugMetric: Sendable, Equatable {
    public var name: String
    public var datatype: SparkplugDataType
    /// nil: `is_null` (a bad reading, or a birth before the first poll).
    public var value: SparkplugValue?
    public var timestamp: Int64?
    public var isHistorical = false
    /// String or Int32 properties (`engUnit`, `Quality`).
    public var properties: [(key: String, value: SparkplugValue)] = []

    public init(name: String, datatype: SparkplugDataType, value: SparkplugValue?, timestamp: Int64? = nil,
                isHistorical: Bool = false, properties: [(key: String, value: SparkplugValue)] = []) {
        self.name = name; self.datatype = datatype; self.value = value; self.timestamp = timestamp
        self.isHistorical = isHistorical; self.properties = properties
    }

    public static func == (a: SparkplugMetric, b: SparkplugMetric) -> Bool {
        a.name == b.name && a.datatype == b.datatype && a.value == b.value && a.timestamp == b.timestamp && a.isHistorical == b.isHistorical
            && a.properties.map(\.key) == b.properties.map(\.key) && a.properties.map(\.value) == b.properties.map(\.value)
    }
}

public struct SparkplugPayload: Sendable, Equatable {
    public var timestamp: Int64
    /// nil only in NDEATH (and in commands from a host).
    public var seq: UInt64?
    public var metrics: [SparkplugMetric]

    public init(timestamp: Int64, seq: UInt64?, metrics: [SparkplugMetric]) {
        self.timestamp = timestamp; self.seq = seq; self.metrics = metrics
    }

    public func encode() -> [UInt8] {
        var w = ProtobufWriter()
        w.uint(1, UInt64(max(0, timestamp)))
        for metric in metrics { w.message(2) { Self.encode(metric, to: &$0) } }
        if let seq { w.uint(3, seq) }
        return w.bytes
    }

    static func encode(_ m: SparkplugMetric, to w: inout ProtobufWriter) {
        w.string(1, m.name)
        if let ts = m.timestamp { w.uint(3, UInt64(max(0, ts))) }
        w.uint(4, UInt64(m.datatype.rawValue))
        if m.isHistorical { w.bool(5, true) }
        if !m.properties.isEmpty {
            w.message(9) { set in
                for p in m.properties { set.string(1, p.key) }
                for p in m.properties {
                    set.message(2) { v in
                        switch p.value {
                        case .string(let s): v.uint(1, UInt64(SparkplugDataType.string.rawValue)); v.string(8, s)
                        case .int(let i): v.uint(1, UInt64(SparkplugDataType.int32.rawValue)); v.uint(3, UInt64(UInt32(truncatingIfNeeded: i)))
                        default: v.uint(1, 0); v.bool(2, true)
                        }
                    }
                }
            }
        }
        guard let value = m.value else { w.bool(7, true); return }
        switch (m.datatype, value) {
        case (.boolean, .bool(let b)): w.bool(14, b)
        case (.string, .string(let s)): w.string(15, s)
        case (.float, _): w.float(12, Float(value.asDouble ?? 0))
        case (.double, _): w.double(13, value.asDouble ?? 0)
        case (.int64, _), (.uint64, _): w.uint(11, value.asBits64)
        default: w.uint(10, UInt64(UInt32(truncatingIfNeeded: value.asBits64))) // 8–32-bit types in int_value, two's complement
        }
    }

    /// A payload from a host (NCMD, DCMD) or our own, for tests; nil when malformed.
    public static func decode(_ bytes: [UInt8]) -> SparkplugPayload? {
        var r = ProtobufReader(bytes[...])
        var payload = SparkplugPayload(timestamp: 0, seq: nil, metrics: [])
        do {
            while let (field, value) = try r.next() {
                switch (field, value) {
                case (1, .varint(let v)): payload.timestamp = Int64(truncatingIfNeeded: v)
                case (2, .bytes(let b)): payload.metrics.append(try metric(b))
                case (3, .varint(let v)): payload.seq = v
                default: break
                }
            }
        } catch { return nil }
        return payload
    }

    private static func metric(_ bytes: ArraySlice<UInt8>) throws(ProtobufReader.Malformed) -> SparkplugMetric {
        var r = ProtobufReader(bytes)
        var m = SparkplugMetric(name: "", datatype: .string, value: nil)
        var raw: (field: Int, value: ProtobufReader.Value)?
        var hasDatatype = false
        while let (field, value) = try r.next() {
            switch (field, value) {
            case (1, .bytes(let b)): m.name = String(decoding: b, as: UTF8.self)
            case (3, .varint(let v)): m.timestamp = Int64(truncatingIfNeeded: v)
            case (4, .varint(let v)): m.datatype = SparkplugDataType(rawValue: UInt32(truncatingIfNeeded: v)) ?? .string; hasDatatype = true
            case (5, .varint(let v)): m.isHistorical = v != 0
            case (10...15, _): raw = (field, value)
            default: break
            }
        }
        // A command may leave the datatype out (the host knows it from the birth): the value's field says it.
        if !hasDatatype, let field = raw?.field {
            m.datatype = [10: .uint32, 11: .uint64, 12: .float, 13: .double, 14: .boolean, 15: .string][field] ?? .string
        }
        switch raw?.value {
        case .varint(let v)?:
            switch m.datatype {
            case .boolean: m.value = .bool(v != 0)
            case .int8, .int16, .int32: m.value = .int(Int64(Int32(truncatingIfNeeded: v)))
            case .int64: m.value = .int(Int64(bitPattern: v))
            default: m.value = .uint(v)
            }
        case .fixed32(let bits)?: m.value = .float(Float(bitPattern: bits))
        case .fixed64(let bits)?: m.value = .double(Double(bitPattern: bits))
        case .bytes(let b)?: m.value = .string(String(decoding: b, as: UTF8.self))
        case nil: m.value = nil
        }
        return m
    }
}

extension SparkplugValue {
    var asDouble: Double? {
        switch self {
        case .int(let i): Double(i)
        case .uint(let u): Double(u)
        case .float(let f): Double(f)
        case .double(let d): d
        case .bool(let b): b ? 1 : 0
        case .string: nil
        }
    }

    /// An integer's 64 bits (two's complement for negatives); a float rounded.
    var asBits64: UInt64 {
        switch self {
        case .int(let i): UInt64(bitPattern: i)
        case .uint(let u): u
        case .float(let f): f.isFinite ? UInt64(bitPattern: Int64(f.rounded())) : 0
        case .double(let d): d.isFinite && abs(d) < 9e18 ? UInt64(bitPattern: Int64(d.rounded())) : 0
        case .bool(let b): b ? 1 : 0
        case .string: 0
        }
    }

    /// What a reading's value is on the wire.
    public init?(_ value: PointValue?) {
        switch value {
        case nil: return nil
        case .int(let i): self = .int(i)
        case .uint(let u): self = .uint(u)
        case .float(let f): self = .float(f)
        case .double(let d): self = .double(d)
        case .bool(let b): self = .bool(b)
        case .string(let s): self = .string(s)
        }
    }
}

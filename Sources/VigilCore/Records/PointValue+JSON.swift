/// A value in JSON is what the readings carry: a number (a float32 in its own
/// precision, so 6.504 and not 6.5040000000000004), true/false, or text — for
/// `vigil values --json`, `diag watch --json` and `diag read --json`.
extension PointValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let u = try? c.decode(UInt64.self) { self = .uint(u) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let v): try c.encode(v)
        case .uint(let v): try c.encode(v)
        case .float(let v): if v.isFinite { try c.encode(v) } else { try c.encodeNil() }
        case .double(let v): if v.isFinite { try c.encode(v) } else { try c.encodeNil() }
        case .bool(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        }
    }

    /// As a table shows it: the same digits as the JSON.
    public var text: String {
        switch self {
        case .int(let i): "\(i)"
        case .uint(let u): "\(u)"
        case .float(let f): "\(f)"
        case .double(let d): "\(d)"
        case .bool(let b): b ? "true" : "false"
        case .string(let s): s
        }
    }

    /// A register value unscaled, typed as a reading of `type` carries it.
    public init(_ raw: RawValue, type: ValueType) {
        switch raw {
        case .signed(let v): self = .int(v)
        case .unsigned(let v): self = .uint(v)
        case .float(let d): self = type == .float32 ? .float(Float(d)) : .double(d)
        case .string(let s): self = .string(s)
        }
    }
}

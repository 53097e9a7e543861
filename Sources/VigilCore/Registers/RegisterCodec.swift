/// Converts between 16-bit register words and typed values, in any word order.
///
/// Words are as they arrive in a Modbus response: each word big-endian on the
/// wire. `WordOrder` says how the value's bytes are spread over them.
public enum RegisterCodec {
    /// The value's bytes, most significant first, from `words` in `order`.
    public static func bytes(_ words: some Collection<UInt16>, order: WordOrder) -> [UInt8] {
        var ordered = Array(words)
        if order.reversesWords { ordered.reverse() }
        var out: [UInt8] = []
        out.reserveCapacity(ordered.count * 2)
        for w in ordered {
            let hi = UInt8(w >> 8), lo = UInt8(w & 0xFF)
            if order.swapsBytes { out.append(lo); out.append(hi) } else { out.append(hi); out.append(lo) }
        }
        return out
    }

    /// The words that carry `bytes` (most significant first) in `order`.
    public static func words(_ bytes: [UInt8], order: WordOrder) -> [UInt16] {
        var words: [UInt16] = []
        var i = 0
        while i < bytes.count {
            let hi = UInt16(bytes[i]), lo = i + 1 < bytes.count ? UInt16(bytes[i + 1]) : 0
            words.append(order.swapsBytes ? (lo << 8 | hi) : (hi << 8 | lo))
            i += 2
        }
        if order.reversesWords { words.reverse() }
        return words
    }

    static func unsigned(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Decodes a register value of `type` (not `bool`, which comes from a bit).
    public static func decode(_ words: some Collection<UInt16>, type: ValueType, order: WordOrder) -> RawValue {
        if type == .string {
            // Strings are read two characters a register, in wire order; a
            // byte-swapped device is handled with badc. Trailing NULs and spaces go.
            var b = bytes(words, order: order.swapsBytes ? .badc : .abcd)
            while let last = b.last, last == 0 || last == 0x20 { b.removeLast() }
            return .string(String(decoding: b, as: UTF8.self))
        }
        let v = unsigned(bytes(words, order: order))
        switch type {
        case .bool: return .unsigned(v & 1)
        case .uint16, .uint32, .uint64: return .unsigned(v)
        case .int16: return .signed(Int64(Int16(truncatingIfNeeded: v)))
        case .int32: return .signed(Int64(Int32(truncatingIfNeeded: v)))
        case .int64: return .signed(Int64(bitPattern: v))
        case .float32: return .float(Double(Float(bitPattern: UInt32(truncatingIfNeeded: v))))
        case .float64: return .float(Double(bitPattern: v))
        case .string: fatalError("handled above")
        }
    }

    /// Encodes a value as `type` in `order`: what a device would hold.
    public static func encode(_ value: RawValue, type: ValueType, order: WordOrder, length: Int? = nil) -> [UInt16] {
        let count = type.fixedRegisterCount ?? length ?? 1
        var pattern: UInt64
        switch (type, value) {
        case (.string, .string(let s)):
            var b = Array(s.utf8.prefix(count * 2))
            b += [UInt8](repeating: 0, count: count * 2 - b.count)
            return words(b, order: order.swapsBytes ? .badc : .abcd)
        case (.float32, _): pattern = UInt64(Float(value.asDouble).bitPattern)
        case (.float64, _): pattern = value.asDouble.bitPattern
        case (_, .signed(let i)): pattern = UInt64(bitPattern: i)
        case (_, .unsigned(let u)): pattern = u
        case (_, .float(let d)): pattern = UInt64(bitPattern: Int64(d.rounded()))
        case (_, .string): pattern = 0
        }
        var b: [UInt8] = []
        for i in stride(from: count * 2 - 1, through: 0, by: -1) { b.append(UInt8(truncatingIfNeeded: pattern >> (UInt64(i) * 8))) }
        return words(b, order: order)
    }

    /// Register words as hex, space separated: "41c8 0000".
    public static func hex(_ words: some Collection<UInt16>) -> String {
        var out = ""
        out.reserveCapacity(words.count * 5)
        for (i, w) in words.enumerated() {
            if i > 0 { out.append(" ") }
            out.append(hex4(w))
        }
        return out
    }

    static func hex4(_ w: UInt16) -> String {
        let digits: [Character] = ["0","1","2","3","4","5","6","7","8","9","a","b","c","d","e","f"]
        return String([digits[Int(w >> 12)], digits[Int((w >> 8) & 0xF)], digits[Int((w >> 4) & 0xF)], digits[Int(w & 0xF)]])
    }
}

/// A decoded register value before scaling.
public enum RawValue: Sendable, Equatable {
    case signed(Int64)
    case unsigned(UInt64)
    case float(Double)
    case string(String)

    public var asDouble: Double {
        switch self {
        case .signed(let i): return Double(i)
        case .unsigned(let u): return Double(u)
        case .float(let d): return d
        case .string: return .nan
        }
    }

    /// The integer code, for enum labels and decimal counts.
    public var asInteger: Int64? {
        switch self {
        case .signed(let i): return i
        case .unsigned(let u): return u <= UInt64(Int64.max) ? Int64(u) : nil
        case .float, .string: return nil
        }
    }
}

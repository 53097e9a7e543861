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

    /// The value's bits, most significant first, straight from the words
    /// (no intermediate arrays: this runs for every point of every poll).
    static func unsigned(_ words: some Collection<UInt16>, order: WordOrder) -> UInt64 {
        var v: UInt64 = 0
        func add(_ w: UInt16) {
            let word = order.swapsBytes ? w.byteSwapped : w
            v = v << 16 | UInt64(word)
        }
        if order.reversesWords { for w in words.reversed() { add(w) } } else { for w in words { add(w) } }
        return v
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
        let v = unsigned(words, order: order)
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
        let digits: StaticString = "0123456789abcdef"
        let count = words.isEmpty ? 0 : words.count * 5 - 1
        return String(unsafeUninitializedCapacity: count) { buffer in
            digits.withUTF8Buffer { d in
                var i = 0
                for w in words {
                    if i > 0 { buffer[i] = 0x20; i += 1 }
                    buffer[i] = d[Int(w >> 12)]
                    buffer[i + 1] = d[Int((w >> 8) & 0xF)]
                    buffer[i + 2] = d[Int((w >> 4) & 0xF)]
                    buffer[i + 3] = d[Int(w & 0xF)]
                    i += 4
                }
                return i
            }
        }
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

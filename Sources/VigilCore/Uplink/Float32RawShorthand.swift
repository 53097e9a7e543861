/// Version 2's shorthand for a float32 point's raw registers: when the two
/// words a device sent are exactly the value's IEEE 754 bits, the row carries
/// a number naming their word order (1 abcd, 2 cdab, 3 badc, 4 dcba) instead
/// of the words. Those eight hex digits are noise to gzip, and on a site of
/// float32 detectors whose values move they were a fifth of the body; the
/// reader rebuilds them from the value, so nothing is lost.
enum Float32RawShorthand {
    /// The code for `raw`, or nil when it must go as words: a value of another
    /// type, a scaled one (its bits are not the registers'), or one whose text
    /// would not read back as the same float32 through a double (as Python's
    /// `float` and `struct.pack(">f", …)` read it).
    static func code(for value: Float, raw: RawRegisters) -> Int64? {
        guard value.isFinite, raw.wordCount == 2, raw.bit == nil else { return nil }
        var words: [UInt16] = []
        words.reserveCapacity(2)
        raw.forEachWord { words.append($0) }
        guard let index = WordOrder.allCases.firstIndex(where: { RegisterCodec.unsigned(words, order: $0) == UInt64(value.bitPattern) }),
              let reread = Double(value.description), Float(reread).bitPattern == value.bitPattern else { return nil }
        return Int64(index) + 1
    }

    /// The registers' hex ("4090 08b7") for `code` and the value's JSON text, or
    /// nil when the code is not 1–4 or the text is not a finite number.
    static func hex(code: Int64, valueText: String) -> String? {
        guard (1...4).contains(code), let number = Double(valueText), number.isFinite else { return nil }
        let bits = Float(number).bitPattern
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: bits >> (24 - 8 * $0)) }
        return RawRegisters(words: RegisterCodec.words(bytes, order: WordOrder.allCases[Int(code) - 1])).hex
    }
}

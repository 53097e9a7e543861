/// Finds the readings and events of an uplink batch in its JSON text without
/// building a tree: one pass that checks the structure (objects, arrays,
/// strings and their escapes, literals) and notes where each element of the
/// top-level `readings` and `events` arrays lies, so a receiver can write
/// them out as they came. The reference receiver uses it on every request.
public struct BatchScanner {
    public struct Batch {
        /// Objects in version 1; rows (arrays) in version 2 (`CompactBatchReader`).
        public var readings: [Range<Int>] = []
        public var events: [Range<Int>] = []
        public var heartbeat = false
        /// The `gateway` value, a JSON string with its quotes.
        public var gateway: Range<Int>?
        /// `v`: 1 when the batch does not say.
        public var version = 1
        /// Version 2's `seq` (the first seq) and `sent_ms`, which its rows count from.
        public var seq: Range<Int>?
        public var sentMs: Range<Int>?
    }

    public struct Failure: Error, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "byte \(offset): \(message)" }
    }

    private let bytes: UnsafeRawBufferPointer
    private var i = 0

    public static func scan(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> Batch {
        var scanner = BatchScanner(bytes: bytes)
        return try scanner.scanBatch()
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private func fail(_ message: String) -> Failure { Failure(offset: i, message: message) }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private mutating func expect(_ c: UInt8) throws(Failure) {
        skipSpace()
        guard i < bytes.count, bytes[i] == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
        i += 1
    }

    private mutating func scanBatch() throws(Failure) -> Batch {
        var batch = Batch()
        try expect(0x7B)
        skipSpace()
        if i < bytes.count, bytes[i] == 0x7D { i += 1; return batch }
        while true {
            skipSpace()
            let key = try string()
            try expect(0x3A)
            skipSpace()
            switch key {
            case "readings": batch.readings = try elements()
            case "events": batch.events = try elements()
            case "gateway":
                let start = i
                guard i < bytes.count, bytes[i] == 0x22 else { throw fail("gateway: expected a string") }
                try value()
                batch.gateway = start..<i
            case "heartbeat":
                let start = i
                try value()
                batch.heartbeat = bytes[start] == UInt8(ascii: "t")
            case "v":
                let start = i
                try value()
                guard let version = Self.integer(in: start..<i, of: bytes) else { i = start; throw fail("v: expected an integer") }
                batch.version = Int(version)
            case "seq", "sent_ms":
                let start = i
                try value()
                if key == "seq" { batch.seq = start..<i } else { batch.sentMs = start..<i }
            default: try value()
            }
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end") }
            if bytes[i] == 0x2C { i += 1; continue }
            if bytes[i] == 0x7D { i += 1; break }
            throw fail("expected ',' or '}'")
        }
        skipSpace()
        if i != bytes.count { throw fail("text after the batch") }
        for range in batch.events where bytes[range.lowerBound] != 0x7B {
            i = range.lowerBound
            throw fail("an event is not an object")
        }
        let readingOpener: UInt8 = batch.version == 2 ? 0x5B : 0x7B
        for range in batch.readings where bytes[range.lowerBound] != readingOpener {
            i = range.lowerBound
            throw fail(batch.version == 2 ? "a reading is not an array (a version 2 row)" : "a reading is not an object")
        }
        return batch
    }

    /// The elements of the array at `range` (already checked by `scan`).
    public static func elements(ofArrayAt range: Range<Int>, in bytes: UnsafeRawBufferPointer) throws(Failure) -> [Range<Int>] {
        var scanner = BatchScanner(bytes: bytes)
        scanner.i = range.lowerBound
        return try scanner.elements()
    }

    /// The members of the object at `range` (already checked by `scan`): each key's text and its value's bytes.
    public static func members(ofObjectAt range: Range<Int>, in bytes: UnsafeRawBufferPointer) throws(Failure) -> [(key: String, value: Range<Int>)] {
        var scanner = BatchScanner(bytes: bytes)
        scanner.i = range.lowerBound
        try scanner.expect(0x7B)
        var members: [(key: String, value: Range<Int>)] = []
        scanner.skipSpace()
        if scanner.i < bytes.count, bytes[scanner.i] == 0x7D { return members }
        while true {
            scanner.skipSpace()
            let key = try scanner.string()
            try scanner.expect(0x3A)
            scanner.skipSpace()
            let start = scanner.i
            try scanner.value()
            members.append((key, start..<scanner.i))
            scanner.skipSpace()
            guard scanner.i < bytes.count else { throw scanner.fail("unexpected end") }
            if bytes[scanner.i] == 0x2C { scanner.i += 1; continue }
            if bytes[scanner.i] == 0x7D { return members }
            throw scanner.fail("expected ',' or '}'")
        }
    }

    /// A JSON integer (no fraction, no exponent) that fits an Int64; nil for anything else.
    public static func integer(in range: Range<Int>, of bytes: UnsafeRawBufferPointer) -> Int64? {
        var i = range.lowerBound
        let negative = i < range.upperBound && bytes[i] == 0x2D
        if negative { i += 1 }
        guard i < range.upperBound else { return nil }
        var magnitude: Int64 = 0
        while i < range.upperBound {
            let digit = bytes[i] &- 0x30
            guard digit < 10 else { return nil }
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(digit))
            guard !o1, !o2 else { return nil }
            magnitude = sum
            i += 1
        }
        return negative ? -magnitude : magnitude
    }

    /// The elements of an array, each as a byte range.
    private mutating func elements() throws(Failure) -> [Range<Int>] {
        try expect(0x5B)
        var ranges: [Range<Int>] = []
        skipSpace()
        if i < bytes.count, bytes[i] == 0x5D { i += 1; return ranges }
        while true {
            skipSpace()
            let start = i
            try value()
            ranges.append(start..<i)
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end") }
            if bytes[i] == 0x2C { i += 1; continue }
            if bytes[i] == 0x5D { i += 1; return ranges }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func value() throws(Failure) {
        skipSpace()
        guard i < bytes.count else { throw fail("unexpected end") }
        switch bytes[i] {
        case 0x7B, 0x5B:
            let close: UInt8 = bytes[i] == 0x7B ? 0x7D : 0x5D
            let isObject = bytes[i] == 0x7B
            i += 1
            skipSpace()
            if i < bytes.count, bytes[i] == close { i += 1; return }
            while true {
                if isObject {
                    skipSpace()
                    _ = try string()
                    try expect(0x3A)
                }
                try value()
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end") }
                if bytes[i] == 0x2C { i += 1; continue }
                if bytes[i] == close { i += 1; return }
                throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))'")
            }
        case 0x22:
            _ = try string(keep: false)
        case 0x74: try literal("true")
        case 0x66: try literal("false")
        case 0x6E: try literal("null")
        case 0x2D, 0x30...0x39:
            let start = i
            i += 1
            while i < bytes.count, (0x30...0x39).contains(bytes[i]) || bytes[i] == 0x2E || bytes[i] == 0x65 || bytes[i] == 0x45 || bytes[i] == 0x2B || bytes[i] == 0x2D { i += 1 }
            if i - start == 1 && bytes[start] == 0x2D { throw fail("a lone '-'") }
        default:
            throw fail("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("unexpected end") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw fail("bad literal") }
        i += n
    }

    /// A string; its text when `keep` (keys), else only checked.
    private mutating func string(keep: Bool = true) throws(Failure) -> String {
        guard i < bytes.count, bytes[i] == 0x22 else { throw fail("expected a string") }
        i += 1
        let start = i
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x22 {
                let text = keep ? String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self) : ""
                i += 1
                return text
            }
            if c == 0x5C { i += 2; continue }
            if c < 0x20 { throw fail("control character in a string") }
            i += 1
        }
        throw fail("unterminated string")
    }
}

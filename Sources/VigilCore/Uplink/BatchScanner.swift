/// Finds the readings and events of an uplink batch in its JSON text without
/// building a tree: one pass that checks the structure (objects, arrays,
/// strings and their escapes, literals) and notes where each element of the
/// top-level `readings` and `events` arrays lies, so a receiver can write
/// them out as they came. The reference receiver uses it on every request.
public struct BatchScanner {
    public struct Batch {
        public var readings: [Range<Int>] = []
        public var events: [Range<Int>] = []
        public var heartbeat = false
        /// The `gateway` value, a JSON string with its quotes.
        public var gateway: Range<Int>?
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
        for range in batch.readings + batch.events where bytes[range.lowerBound] != 0x7B {
            i = range.lowerBound
            throw fail("a record is not an object")
        }
        return batch
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

/// A JSON5 reader that keeps the line and column of every value.
///
/// The toolchain's `JSONDecoder.allowsJSON5` decodes the same syntax, but on a
/// syntax error it only says "The given data was not valid JSON." and it stops
/// at the first wrong value. An installer editing a config over SSH needs
/// `vigil.json5:14:7: expected ',' or '}'`, and validation needs to report
/// every error with its line, so configs are read into `JSONNode` trees here.
///
/// Accepted: objects, arrays, strings in double or single quotes (with JSON5
/// escapes and line continuations), numbers (decimal, hex, leading or trailing
/// point, `+`, `Infinity`, `NaN`), `true`, `false`, `null`, `//` and `/* */`
/// comments, trailing commas, and unquoted identifier keys.

public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    public var description: String { "\(line):\(column)" }
}

public struct JSONNode: Sendable {
    public enum Value: Sendable {
        case object([Member])
        case array([JSONNode])
        case string(String)
        case number(Double)
        case bool(Bool)
        case null
    }
    public struct Member: Sendable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: JSONNode
    }
    public var value: Value
    public var location: SourceLocation

    /// A short name of the kind of value, for error messages.
    public var kindName: String {
        switch value {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }
}

public struct JSON5SyntaxError: Error, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    public var description: String { "\(location): \(message)" }
}

public struct JSON5Reader {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0
    private var depth = 0
    private static let maxDepth = 64

    public static func parse(_ text: String) throws(JSON5SyntaxError) -> JSONNode {
        var reader = JSON5Reader(bytes: Array(text.utf8))
        return try reader.parseDocument()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private var location: SourceLocation { SourceLocation(line: line, column: index - lineStart + 1) }
    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }
    private func peek(_ ahead: Int) -> UInt8? { index + ahead < bytes.count ? bytes[index + ahead] : nil }

    private func fail(_ message: String, at where_: SourceLocation? = nil) -> JSON5SyntaxError {
        JSON5SyntaxError(location: where_ ?? location, message: message)
    }

    private mutating func advance() {
        if bytes[index] == UInt8(ascii: "\n") { line += 1; lineStart = index + 1 }
        index += 1
    }

    private mutating func parseDocument() throws(JSON5SyntaxError) -> JSONNode {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3; lineStart = 3 }
        try skipSpaceAndComments()
        guard current != nil else { throw fail("the file is empty; expected a JSON5 object") }
        let node = try parseValue()
        try skipSpaceAndComments()
        if current != nil { throw fail("unexpected \(describeCurrent()) after the end of the document") }
        return node
    }

    private func describeCurrent() -> String {
        guard let c = current else { return "end of file" }
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }

    private mutating func skipSpaceAndComments() throws(JSON5SyntaxError) {
        while let c = current {
            switch c {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C:
                advance()
            case 0xC2 where peek(1) == 0xA0: // no-break space
                advance(); advance()
            case 0xEF where peek(1) == 0xBB && peek(2) == 0xBF: // stray BOM
                advance(); advance(); advance()
            case UInt8(ascii: "/"):
                let start = location
                if peek(1) == UInt8(ascii: "/") {
                    while let d = current, d != 0x0A { advance() }
                } else if peek(1) == UInt8(ascii: "*") {
                    advance(); advance()
                    while true {
                        guard let d = current else { throw fail("unterminated /* comment", at: start) }
                        if d == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/") { advance(); advance(); break }
                        advance()
                    }
                } else {
                    throw fail("unexpected '/'; comments start with // or /*")
                }
            default:
                return
            }
        }
    }

    private mutating func parseValue() throws(JSON5SyntaxError) -> JSONNode {
        let start = location
        guard let c = current else { throw fail("unexpected end of file; expected a value") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return JSONNode(value: .string(try parseString()), location: start)
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(value: .number(try parseNumber()), location: start)
        default:
            if isIdentifierStart(c) {
                let word = parseIdentifier()
                switch word {
                case "true": return JSONNode(value: .bool(true), location: start)
                case "false": return JSONNode(value: .bool(false), location: start)
                case "null": return JSONNode(value: .null, location: start)
                case "Infinity": return JSONNode(value: .number(.infinity), location: start)
                case "NaN": return JSONNode(value: .number(.nan), location: start)
                default: throw fail("unexpected word '\(word)'; strings need quotes", at: start)
                }
            }
            throw fail("unexpected \(describeCurrent()); expected a value")
        }
    }

    private mutating func enter() throws(JSON5SyntaxError) {
        depth += 1
        if depth > Self.maxDepth { throw fail("nesting deeper than \(Self.maxDepth) levels") }
    }

    private mutating func parseObject() throws(JSON5SyntaxError) -> JSONNode {
        let start = location
        try enter()
        advance() // {
        var members: [JSONNode.Member] = []
        while true {
            try skipSpaceAndComments()
            guard let c = current else { throw fail("unexpected end of file; expected '}' to close the object at \(start)") }
            if c == UInt8(ascii: "}") { advance(); break }
            let keyLocation = location
            let key: String
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                key = try parseString()
            } else if isIdentifierStart(c) {
                key = parseIdentifier()
            } else {
                throw fail("unexpected \(describeCurrent()); expected a key or '}'")
            }
            try skipSpaceAndComments()
            guard current == UInt8(ascii: ":") else { throw fail("expected ':' after the key \"\(key)\"") }
            advance()
            try skipSpaceAndComments()
            let value = try parseValue()
            if members.contains(where: { $0.key == key }) {
                throw fail("duplicate key \"\(key)\"", at: keyLocation)
            }
            members.append(JSONNode.Member(key: key, keyLocation: keyLocation, value: value))
            try skipSpaceAndComments()
            if current == UInt8(ascii: ",") { advance(); continue }
            if current == UInt8(ascii: "}") { advance(); break }
            throw fail(current == nil ? "unexpected end of file; expected ',' or '}'" : "expected ',' or '}'")
        }
        depth -= 1
        return JSONNode(value: .object(members), location: start)
    }

    private mutating func parseArray() throws(JSON5SyntaxError) -> JSONNode {
        let start = location
        try enter()
        advance() // [
        var items: [JSONNode] = []
        while true {
            try skipSpaceAndComments()
            guard let c = current else { throw fail("unexpected end of file; expected ']' to close the array at \(start)") }
            if c == UInt8(ascii: "]") { advance(); break }
            items.append(try parseValue())
            try skipSpaceAndComments()
            if current == UInt8(ascii: ",") { advance(); continue }
            if current == UInt8(ascii: "]") { advance(); break }
            throw fail(current == nil ? "unexpected end of file; expected ',' or ']'" : "expected ',' or ']'")
        }
        depth -= 1
        return JSONNode(value: .array(items), location: start)
    }

    private func isIdentifierStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_") || c == UInt8(ascii: "$") || c >= 0x80
    }

    private mutating func parseIdentifier() -> String {
        let start = index
        while let c = current, isIdentifierStart(c) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) { advance() }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func parseString() throws(JSON5SyntaxError) -> String {
        let start = location
        let quote = bytes[index]
        advance()
        var out: [UInt8] = []
        while true {
            guard let c = current else { throw fail("unterminated string", at: start) }
            if c == quote { advance(); break }
            if c == 0x0A || c == 0x0D { throw fail("line break inside a string (end the line with \\ to continue it)") }
            if c != UInt8(ascii: "\\") { out.append(c); advance(); continue }
            advance()
            guard let e = current else { throw fail("unterminated string", at: start) }
            let escapeLocation = location
            advance()
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "0"): out.append(0x00)
            case 0x0A: break // line continuation
            case 0x0D: if current == 0x0A { advance() }
            case UInt8(ascii: "x"):
                let v = try hexDigits(2, at: escapeLocation)
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(UInt8(v)))).utf8))
            case UInt8(ascii: "u"):
                var v = try hexDigits(4, at: escapeLocation)
                if (0xD800..<0xDC00).contains(v), current == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u") {
                    advance(); advance()
                    let low = try hexDigits(4, at: escapeLocation)
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(v) else { throw fail("invalid \\u escape", at: escapeLocation) }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func hexDigits(_ count: Int, at where_: SourceLocation) throws(JSON5SyntaxError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<count {
            guard let c = current, let d = hexValue(c) else { throw fail("expected \(count) hex digits in the escape", at: where_) }
            v = v * 16 + UInt32(d)
            advance()
        }
        return v
    }

    private func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private mutating func parseNumber() throws(JSON5SyntaxError) -> Double {
        let start = location
        var negative = false
        if current == UInt8(ascii: "-") || current == UInt8(ascii: "+") {
            negative = current == UInt8(ascii: "-")
            advance()
        }
        if let c = current, isIdentifierStart(c) {
            let word = parseIdentifier()
            switch word {
            case "Infinity": return negative ? -.infinity : .infinity
            case "NaN": return .nan
            default: throw fail("invalid number", at: start)
            }
        }
        if current == UInt8(ascii: "0"), peek(1) == UInt8(ascii: "x") || peek(1) == UInt8(ascii: "X") {
            advance(); advance()
            var v: Double = 0
            var digits = 0
            while let c = current, let d = hexValue(c) { v = v * 16 + Double(d); digits += 1; advance() }
            if digits == 0 { throw fail("expected hex digits after 0x", at: start) }
            return negative ? -v : v
        }
        let textStart = index
        var sawDigit = false
        while let c = current, c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") { sawDigit = true; advance() }
        if current == UInt8(ascii: ".") {
            advance()
            while let c = current, c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") { sawDigit = true; advance() }
        }
        if !sawDigit { throw fail("invalid number", at: start) }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            advance()
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { advance() }
            var expDigits = false
            while let c = current, c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") { expDigits = true; advance() }
            if !expDigits { throw fail("invalid number: exponent without digits", at: start) }
        }
        if let c = current, isIdentifierStart(c) { throw fail("invalid number: unexpected '\(Character(Unicode.Scalar(c)))'") }
        var text = String(decoding: bytes[textStart..<index], as: UTF8.self)
        if text.hasPrefix(".") { text = "0" + text }
        if text.hasSuffix(".") { text += "0" }
        guard let v = Double(text) else { throw fail("invalid number", at: start) }
        return negative ? -v : v
    }
}

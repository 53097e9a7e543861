import XCTest
@testable import VigilCore

final class JSON5ReaderTests: XCTestCase {
    func testAcceptsJSON5Syntax() throws {
        let text = """
        // a comment
        {
          unquoted: 'single',   /* block */
          "quoted": "a\\tb",
          hex: 0x1F, lead: .5, trail: 5., plus: +3, neg: -Infinity,
          list: [1, 2, 3,],
          nested: { ok: true, nothing: null, },
        }
        """
        let root = try JSON5Reader.parse(text)
        guard case .object(let members) = root.value else { return XCTFail("not an object") }
        func value(_ key: String) -> JSONNode.Value? { members.first { $0.key == key }?.value.value }
        guard case .string("single") = value("unquoted") else { return XCTFail("unquoted") }
        guard case .string("a\tb") = value("quoted") else { return XCTFail("escape") }
        guard case .number(31) = value("hex") else { return XCTFail("hex") }
        guard case .number(0.5) = value("lead") else { return XCTFail("leading point") }
        guard case .number(5) = value("trail") else { return XCTFail("trailing point") }
        guard case .number(3) = value("plus") else { return XCTFail("plus") }
        guard case .number(let n) = value("neg"), n == -.infinity else { return XCTFail("-Infinity") }
        guard case .array(let items) = value("list") else { return XCTFail("list") }
        XCTAssertEqual(items.count, 3)
        XCTAssertEqual(members.first { $0.key == "nested" }?.keyLocation, SourceLocation(line: 7, column: 3))
    }

    func testSyntaxErrorsCarryLineAndColumn() {
        let cases: [(String, SourceLocation, String)] = [
            ("{\n  a: 1\n  b: 2\n}", SourceLocation(line: 3, column: 3), "expected ',' or '}'"),
            ("{ a: [1, 2 }", SourceLocation(line: 1, column: 12), "expected ',' or ']'"),
            ("{ a: \"open\n}", SourceLocation(line: 1, column: 11), "line break inside a string"),
            ("{ a: nope }", SourceLocation(line: 1, column: 6), "unexpected word 'nope'"),
            ("{ a: 1 } x", SourceLocation(line: 1, column: 10), "after the end of the document"),
            ("{ a: 1, a: 2 }", SourceLocation(line: 1, column: 9), "duplicate key \"a\""),
            ("", SourceLocation(line: 1, column: 1), "the file is empty"),
            ("{ /* never closed", SourceLocation(line: 1, column: 3), "unterminated /* comment"),
        ]
        for (text, location, message) in cases {
            XCTAssertThrowsError(try JSON5Reader.parse(text), text) { error in
                let e = error as! JSON5SyntaxError
                XCTAssertEqual(e.location, location, text)
                XCTAssertTrue(e.message.contains(message), "\(text): \(e.message)")
            }
        }
    }

    func testNumbersWithExponents() throws {
        let root = try JSON5Reader.parse("[1e3, 2.5E-2, 0x10]")
        guard case .array(let items) = root.value else { return XCTFail() }
        let numbers = items.compactMap { if case .number(let d) = $0.value { return d } else { return nil } }
        XCTAssertEqual(numbers, [1000, 0.025, 16])
    }
}

import XCTest
import VigilCore

/// `values --json`, `diag watch --json` and `diag read --json` type values as the readings do.
final class PointValueJSONTests: XCTestCase {
    private func json(_ value: PointValue?) throws -> String {
        let encoder = JSONEncoder()
        return String(decoding: try encoder.encode([value]), as: UTF8.self)
    }

    func testNumbersAndBooleansAreTypedNotQuoted() throws {
        XCTAssertEqual(try json(.double(1.24)), "[1.24]")
        XCTAssertEqual(try json(.bool(false)), "[false]")
        XCTAssertEqual(try json(.int(-7)), "[-7]")
        XCTAssertEqual(try json(.uint(65535)), "[65535]")
        XCTAssertEqual(try json(.string("E12")), "[\"E12\"]")
    }

    func testAFloat32PrintsInItsOwnPrecision() throws {
        XCTAssertEqual(try json(.float(6.504)), "[6.504]")
        XCTAssertEqual(PointValue.float(6.504).text, "6.504")
        XCTAssertEqual(PointValue(.float(Double(Float(23.4))), type: .float32).text, "23.4")
    }

    func testANonFiniteFloatIsNullNotInvalidJSON() throws {
        XCTAssertEqual(try json(.float(.nan)), "[null]")
        XCTAssertEqual(try json(.double(.infinity)), "[null]")
    }

    func testDecodingKeepsTheType() throws {
        let decoded = try JSONDecoder().decode([PointValue].self, from: Data("[true, 3, 2.5, \"x\"]".utf8))
        XCTAssertEqual(decoded, [.bool(true), .int(3), .double(2.5), .string("x")])
    }
}

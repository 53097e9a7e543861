import Foundation
import XCTest
@testable import VigilCore
import VigilTestSupport

/// Decoding of every type × word order against vectors made by pymodbus's own encoder.
final class RegisterCodecTests: XCTestCase {
    func testDecodesPymodbusVectors() throws {
        let python = try requirePymodbus()
        let result = try runCommand(python, [Repo.peerScript("decode_vectors.py")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let vectors = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [[String: Any]]
        XCTAssertGreaterThan(vectors.count, 100)
        var seen = Set<String>()
        for v in vectors {
            let type = ValueType(rawValue: v["type"] as! String)!
            let order = WordOrder(rawValue: v["order"] as! String)!
            let words = (v["registers"] as! [NSNumber]).map { UInt16($0.intValue) }
            let expected = v["value"]!
            let decoded = RegisterCodec.decode(words, type: type, order: order)
            let label = "\(type) \(order) \(words)"
            seen.insert("\(type)/\(order)")
            switch decoded {
            case .signed(let i): XCTAssertEqual(i, (expected as! NSNumber).int64Value, label)
            case .unsigned(let u): XCTAssertEqual(u, (expected as! NSNumber).uint64Value, label)
            case .float(let d): XCTAssertEqual(String(d.bitPattern, radix: 16).leftPadded(16), v["float64_bits"] as? String, label)
            case .string(let s): XCTAssertEqual(s, expected as? String, label)
            }
            // And back: encoding the value gives pymodbus's registers.
            XCTAssertEqual(RegisterCodec.encode(decoded, type: type, order: order, length: words.count), words, "encode \(label)")
        }
        XCTAssertEqual(seen.count, 8 * 4 + 1, "every numeric type in every order, and strings")
    }

    func testHex() {
        XCTAssertEqual(RegisterCodec.hex([0x41C8, 0x0000, 0xABCD]), "41c8 0000 abcd")
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

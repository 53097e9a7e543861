import Foundation
import XCTest
@testable import VigilCore

final class RecordJSONTests: XCTestCase {
    func testReadingLineFormat() throws {
        let time = WallTime(milliseconds: 1_795_900_000_123, clockSynced: true)
        let reading = Reading(timestamp: time, device: "gas-1", point: "gas", value: .float(23.4), raw: RawRegisters(words: [0x41bb, 0x3333]),
                              unit: "%LEL", label: nil, quality: .good, error: nil)
        let line = RecordJSON.line(.reading(reading), seq: 42)
        XCTAssertEqual(line, #"{"seq":42,"ts":"2026-11-28T21:06:40.123Z","clock_synced":true,"device":"gas-1","point":"gas","value":23.4,"raw":"41bb 3333","unit":"%LEL","quality":"good"}"#)
    }

    func testBadReadingAndEventsParseAsJSON() throws {
        let time = WallTime(milliseconds: 0, clockSynced: false)
        let bad = Reading(timestamp: time, device: "d\"1", point: "p\n", value: nil, raw: .none, unit: nil, label: nil, quality: .bad, error: "exception 2 (illegal data address)")
        let event = Event(timestamp: time, kind: .deviceOffline, device: "d1", bus: "b", detail: "timeout\u{1}")
        for (record, seq) in [(Record.reading(bad), UInt64(1)), (.event(event), 2)] {
            let object = try JSONSerialization.jsonObject(with: Data(RecordJSON.line(record, seq: seq).utf8)) as! [String: Any]
            XCTAssertEqual(object["seq"] as? Int, Int(seq))
            XCTAssertEqual(object["ts"] as? String, "1970-01-01T00:00:00.000Z")
            XCTAssertEqual(object["clock_synced"] as? Bool, false)
        }
        let object = try JSONSerialization.jsonObject(with: Data(RecordJSON.line(.reading(bad), seq: 1).utf8)) as! [String: Any]
        XCTAssertEqual(object["device"] as? String, "d\"1")
        XCTAssertTrue(object["value"] is NSNull)
        XCTAssertEqual(object["error"] as? String, "exception 2 (illegal data address)")
        let e = try JSONSerialization.jsonObject(with: Data(RecordJSON.line(.event(event), seq: 2).utf8)) as! [String: Any]
        XCTAssertEqual(e["event"] as? String, "device_offline")
        XCTAssertEqual(e["detail"] as? String, "timeout\u{1}")
    }
}

final class RawRegistersTests: XCTestCase {
    func testHexIsMadeOnlyFromTheTypedWordsAndReadBackExactly() {
        let shapes: [(RawRegisters, String)] = [
            (.none, ""), (.bit(false), "0"), (.bit(true), "1"), (RawRegisters(words: [0x04d2]), "04d2"),
            (RawRegisters(words: [0x41bb, 0x0000]), "41bb 0000"), (RawRegisters(words: [0xffff, 0x8000, 1, 2]), "ffff 8000 0001 0002"),
            (RawRegisters(words: [0x4142, 0x4344, 0x4546, 0x4748, 0x4900]), "4142 4344 4546 4748 4900"),
        ]
        for (raw, hex) in shapes {
            XCTAssertEqual(raw.hex, hex)
            XCTAssertEqual(RawRegisters(hex: hex), raw, hex)
            var json: [UInt8] = []
            RecordJSON.append(.reading(Reading(timestamp: WallTime(milliseconds: 0, clockSynced: true), device: "d", point: "p", value: nil, raw: raw,
                                               unit: nil, label: nil, quality: .bad, error: nil)), seq: 1, to: &json)
            XCTAssertTrue(String(decoding: json, as: UTF8.self).contains(#""raw":"\#(hex)""#), String(decoding: json, as: UTF8.self))
        }
        XCTAssertEqual(RawRegisters(words: [0x41bb, 0]).words, [0x41bb, 0])
        XCTAssertEqual(RawRegisters(words: [UInt16]()), .none)
        for notHex in ["41BB-0000", "41bb  0000", "41bb 000g", "41b", "not hex at all"] {
            XCTAssertNil(RawRegisters(hex: notHex), notHex)
        }
    }
}

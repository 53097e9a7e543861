import Foundation
import XCTest
@testable import VigilCore

final class RecordJSONTests: XCTestCase {
    func testReadingLineFormat() throws {
        let time = WallTime(milliseconds: 1_795_900_000_123, clockSynced: true)
        let reading = Reading(timestamp: time, device: "gas-1", point: "gas", value: .float(23.4), raw: "41bb 3333",
                              unit: "%LEL", label: nil, quality: .good, error: nil)
        let line = RecordJSON.line(.reading(reading), seq: 42)
        XCTAssertEqual(line, #"{"seq":42,"ts":"2026-11-28T21:06:40.123Z","clock_synced":true,"device":"gas-1","point":"gas","value":23.4,"raw":"41bb 3333","unit":"%LEL","quality":"good"}"#)
    }

    func testBadReadingAndEventsParseAsJSON() throws {
        let time = WallTime(milliseconds: 0, clockSynced: false)
        let bad = Reading(timestamp: time, device: "d\"1", point: "p\n", value: nil, raw: "", unit: nil, label: nil, quality: .bad, error: "exception 2 (illegal data address)")
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

import Foundation
import XCTest
@testable import VigilCore
import VigilTestSupport

/// format onenet: OneJSON messages as OneNET's documentation shows them ("设备属性上报",
/// "设备事件上报", "历史数据上报"), and its reply as the commit point.
final class OneNETFormatTests: XCTestCase {
    let t0 = fixtureEpochMs
    let format = OneNETFormat(productID: "8q4Ad1z2jn", deviceName: "gw-07")

    func reading(_ device: String, _ point: String, _ value: PointValue?, at ms: Int64) -> Record {
        .reading(Reading(timestamp: WallTime(milliseconds: ms, clockSynced: true), device: device, point: point, value: value, raw: .none,
                         unit: nil, label: nil, quality: value == nil ? .bad : .good, error: nil))
    }

    func batch(_ records: [Record], lane: JournalLane = .telemetry, firstSeq: UInt64 = 41) -> UplinkBatch {
        let stored = records.enumerated().map { StoredRecord(seq: firstSeq + UInt64($0.offset), record: $0.element) }
        return UplinkBatch(gateway: "gw", lane: lane, firstSeq: firstSeq, lastSeq: firstSeq + UInt64(records.count) - 1, records: stored)
    }

    func text(_ m: UplinkMessage) -> String { String(decoding: m.payload, as: UTF8.self) }
    func json(_ m: UplinkMessage) throws -> [String: Any] { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any]) }

    func testLiveReadingsArePropertiesOfTheGatewayEachOncePerPost() {
        let sentAt = WallTime(milliseconds: t0 + 2000, clockSynced: true)
        let messages = format.messages(for: batch([
            reading("gas-1", "gas", .float(2.45), at: t0),
            reading("gas-1", "alarm1", .bool(true), at: t0),
            reading("gas-1", "unit_code", nil, at: t0), // failed: no value to post
            reading("gas-1", "gas", .float(2.5), at: t0 + 1000), // the same property again: the next post
        ]), sentAt: sentAt, status: nil)
        XCTAssertEqual(messages.map(\.topic), Array(repeating: "$sys/8q4Ad1z2jn/gw-07/thing/property/post", count: 2))
        XCTAssertEqual(text(messages[0]), #"{"id":"41","version":"1.0","params":{"gas_1_gas":{"value":2.45,"time":1795900000000},"gas_1_alarm1":{"value":true,"time":1795900000000}}}"#)
        XCTAssertEqual(text(messages[1]), #"{"id":"44","version":"1.0","params":{"gas_1_gas":{"value":2.5,"time":1795900001000}}}"#)
        XCTAssertEqual(messages.map(\.replyID), ["41", "44"], "each post waits for its reply, by id")
    }

    func testABacklogGoesThroughTheHistoryTopicWithinOneNETsLimits() throws {
        // 150 polls of two points an hour ago: 100 values of a property at most in a message.
        var old: [Record] = []
        for n in 0..<150 {
            old.append(reading("level-1", "level", .double(1.25), at: t0 + Int64(n) * 1000))
            old.append(reading("level-1", "alarm", .bool(false), at: t0 + Int64(n) * 1000))
        }
        let sentAt = WallTime(milliseconds: t0 + 3_600_000, clockSynced: true)
        let messages = format.messages(for: batch(old, firstSeq: 1), sentAt: sentAt, status: nil)
        XCTAssertEqual(messages.map(\.topic), Array(repeating: "$sys/8q4Ad1z2jn/gw-07/thing/history/post", count: 2))
        XCTAssertEqual(messages.map(\.replyID), ["1", "201"])
        let first = try json(messages[0])
        XCTAssertNil(first["method"], "OneJSON has no method field")
        let params = try XCTUnwrap(first["params"] as? [[String: Any]])
        XCTAssertNil(params[0]["identity"], "without identity: the gateway's own data")
        let properties = try XCTUnwrap(params[0]["properties"] as? [String: [[String: Any]]])
        XCTAssertEqual(properties["level_1_level"]?.count, 100)
        XCTAssertEqual(properties["level_1_alarm"]?.count, 100)
        XCTAssertEqual(properties["level_1_level"]?.first?["time"] as? Int64, t0)
        XCTAssertEqual(properties["level_1_level"]?.first?["value"] as? Double, 1.25)
        let second = try XCTUnwrap((try json(messages[1])["params"] as? [[String: Any]])?.first?["properties"] as? [String: [[String: Any]]])
        XCTAssertEqual(second["level_1_level"]?.count, 50, "every reading sent once")

        // 120 points of one poll: 100 properties at most in a message.
        let wide = (0..<120).map { reading("plc", "p\($0)", .int(Int64($0)), at: t0) }
        let chunks = format.messages(for: batch(wide, firstSeq: 1), sentAt: sentAt, status: nil)
        XCTAssertEqual(try chunks.map { try XCTUnwrap((try json($0)["params"] as? [[String: Any]])?.first?["properties"] as? [String: Any]).count }, [100, 20])
    }

    func testAlarmsAndDeviceStatesAreEvents() {
        let time = WallTime(milliseconds: t0, clockSynced: true)
        let raised = Event(timestamp: time, kind: .alarmRaised, device: "gas-1",
                           alarm: AlarmInfo(point: "gas", level: .high, severity: "A1", value: 26, setpoint: 25, triggerSeq: 3))
        let offline = Event(timestamp: time, kind: .deviceOffline, device: "level-1", bus: "rs485-1", detail: "timeout")
        let acked = Event(timestamp: time, kind: .alarmAcked, device: "gas-1")
        let messages = format.messages(for: batch([.event(raised), .event(acked), .event(offline)], lane: .events), sentAt: time, status: nil)
        XCTAssertEqual(messages.map(\.topic), Array(repeating: "$sys/8q4Ad1z2jn/gw-07/thing/event/post", count: 2))
        XCTAssertEqual(text(messages[0]), #"{"id":"41","version":"1.0","params":{"alarm":{"value":{"device":"gas-1","point":"gas","level":"high","state":"raised","value":26.0,"setpoint":25.0},"time":1795900000000}}}"#)
        XCTAssertEqual(text(messages[1]), #"{"id":"43","version":"1.0","params":{"device_state":{"value":{"device":"level-1","state":"offline","detail":"timeout"},"time":1795900000000}}}"#)
        XCTAssertEqual(messages.map(\.replyID), ["41", "43"])
    }

    func testThePlatformsReplyDecidesTheBatch() {
        let topic = "$sys/8q4Ad1z2jn/gw-07/thing/property/post/reply"
        func reply(_ json: String, on topic: String = topic) -> PlatformReply? { format.platformReply(topic: topic, payload: Array(json.utf8)) }
        XCTAssertEqual(reply(#"{"id":"41","code":200,"msg":"success"}"#), PlatformReply(id: "41", outcome: .delivered, code: 200))
        guard case .rejected(let reason)? = reply(#"{"id":"41","code":400,"msg":"params error"}"#)?.outcome else { return XCTFail() }
        XCTAssertEqual(reason, "OneNET 400 params error (message 41 on \(topic))")
        guard case .unauthorized? = reply(#"{"id":"41","code":401,"msg":"auth failed"}"#)?.outcome else { return XCTFail() }
        guard case .retry? = reply(#"{"id":"41","code":2409,"msg":"undocumented"}"#)?.outcome else { return XCTFail("a code not documented is held and retried") }
        guard case .retry? = reply(#"{"id":"41","msg":"no code"}"#)?.outcome else { return XCTFail() }
        XCTAssertNil(reply(#"{"id":"1","version":"1.0","params":{}}"#, on: "$sys/8q4Ad1z2jn/gw-07/thing/property/set"), "a request, not a reply")
        XCTAssertEqual(format.replyTopics, ["$sys/8q4Ad1z2jn/gw-07/thing/property/post/reply", "$sys/8q4Ad1z2jn/gw-07/thing/event/post/reply",
                                            "$sys/8q4Ad1z2jn/gw-07/thing/history/post/reply"])
    }

    func testMessageIDsHaveAtMostThirteenDigits() {
        XCTAssertEqual(OneNETFormat.messageID(41), "41")
        XCTAssertEqual(OneNETFormat.messageID(12_345_678_901_234_567), "5678901234567")
        XCTAssertLessThanOrEqual(OneNETFormat.messageID(UInt64.max).count, 13)
    }
}

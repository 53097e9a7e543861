import Foundation
import XCTest
@testable import VigilCore
import VigilTestSupport

final class AlinkFormatTests: XCTestCase {
    let t0 = fixtureEpochMs
    let format = AlinkFormat(productKey: "a1B2c3", deviceName: "gw-07")

    func reading(_ device: String, _ point: String, _ value: PointValue?, at ms: Int64) -> Record {
        .reading(Reading(timestamp: WallTime(milliseconds: ms, clockSynced: true), device: device, point: point, value: value, raw: .none,
                         unit: nil, label: nil, quality: value == nil ? .bad : .good, error: nil))
    }

    func batch(_ records: [Record], lane: JournalLane = .telemetry, firstSeq: UInt64 = 41) -> UplinkBatch {
        let stored = records.enumerated().map { StoredRecord(seq: firstSeq + UInt64($0.offset), record: $0.element) }
        return UplinkBatch(gateway: "gw", lane: lane, firstSeq: firstSeq, lastSeq: firstSeq + UInt64(records.count) - 1, records: stored)
    }

    func text(_ m: UplinkMessage) -> String { String(decoding: m.payload, as: UTF8.self) }

    func testLiveReadingsArePropertiesOfTheGatewayOnePerPost() {
        let sentAt = WallTime(milliseconds: t0 + 2000, clockSynced: true)
        let messages = format.messages(for: batch([
            reading("gas-1", "gas", .float(2.45), at: t0),
            reading("gas-1", "alarm1", .bool(true), at: t0),
            reading("gas-1", "unit_code", nil, at: t0), // failed: no value to post
            reading("gas-1", "gas", .float(2.5), at: t0 + 1000), // the same property again: the next post
        ]), sentAt: sentAt, status: nil)
        XCTAssertEqual(messages.map(\.topic), ["/sys/a1B2c3/gw-07/thing/event/property/post", "/sys/a1B2c3/gw-07/thing/event/property/post"])
        XCTAssertEqual(text(messages[0]), #"{"id":"41","version":"1.0","params":{"gas_1_gas":{"value":2.45,"time":1795900000000},"gas_1_alarm1":{"value":1,"time":1795900000000}},"method":"thing.event.property.post"}"#)
        XCTAssertEqual(text(messages[1]), #"{"id":"44","version":"1.0","params":{"gas_1_gas":{"value":2.5,"time":1795900001000}},"method":"thing.event.property.post"}"#)
        XCTAssertEqual(messages.map(\.replyID), ["41", "44"], "each post waits for its post_reply, by id")
    }

    func testABacklogGoesThroughTheHistoryTopicInChunks() throws {
        let old = (0..<250).map { reading("level-1", "level", .double(1.2), at: t0 + Int64($0) * 1000) }
        let sentAt = WallTime(milliseconds: t0 + 3_600_000, clockSynced: true)
        let messages = format.messages(for: batch(old, firstSeq: 1), sentAt: sentAt, status: nil)
        XCTAssertEqual(messages.map(\.topic), Array(repeating: "/sys/a1B2c3/gw-07/thing/event/property/history/post", count: 2))
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(messages[0].payload)) as? [String: Any])
        XCTAssertEqual(first["method"] as? String, "thing.event.property.history.post")
        let params = try XCTUnwrap((first["params"] as? [[String: Any]])?.first)
        XCTAssertEqual(params["identity"] as? [String: String], ["productKey": "a1B2c3", "deviceName": "gw-07"])
        XCTAssertEqual((params["properties"] as? [Any])?.count, 200, "Alink's limit a message")
        XCTAssertEqual(messages.map(\.replyID), ["1", "201"])
    }

    func testAlarmsAndDeviceStatesAreEvents() {
        let time = WallTime(milliseconds: t0, clockSynced: true)
        let raised = Event(timestamp: time, kind: .alarmRaised, device: "gas-1",
                           alarm: AlarmInfo(point: "gas", level: .high, severity: "A1", value: 26, setpoint: 25, triggerSeq: 3))
        let offline = Event(timestamp: time, kind: .deviceOffline, device: "level-1", bus: "rs485-1", detail: "timeout")
        let acked = Event(timestamp: time, kind: .alarmAcked, device: "gas-1")
        let messages = format.messages(for: batch([.event(raised), .event(acked), .event(offline)], lane: .events), sentAt: time, status: nil)
        XCTAssertEqual(messages.map(\.topic), ["/sys/a1B2c3/gw-07/thing/event/alarm/post", "/sys/a1B2c3/gw-07/thing/event/device_state/post"])
        XCTAssertEqual(text(messages[0]), #"{"id":"41","version":"1.0","params":{"value":{"device":"gas-1","point":"gas","level":"high","state":"raised","value":26.0,"setpoint":25.0},"time":1795900000000},"method":"thing.event.alarm.post"}"#)
        XCTAssertEqual(text(messages[1]), #"{"id":"43","version":"1.0","params":{"value":{"device":"level-1","state":"offline","detail":"timeout"},"time":1795900000000},"method":"thing.event.device_state.post"}"#)
    }

    func testThePlatformsReplyDecidesTheBatch() {
        let topic = "/sys/a1B2c3/gw-07/thing/event/property/post_reply"
        func reply(_ json: String) -> PlatformReply? { format.platformReply(topic: topic, payload: Array(json.utf8)) }
        XCTAssertEqual(reply(#"{"code":200,"data":{},"id":"41","message":"success","method":"thing.event.property.post","version":"1.0"}"#),
                       PlatformReply(id: "41", outcome: .delivered, code: 200))
        guard case .rejected(let reason)? = reply(#"{"code":6313,"id":"41","message":"tsl parse: params not match"}"#)?.outcome else { return XCTFail() }
        XCTAssertEqual(reason, "Alink 6313 tsl parse: params not match (message 41 on \(topic))")
        guard case .retry? = reply(#"{"code":500,"id":"41","message":"busy"}"#)?.outcome else { return XCTFail("a server error is retried") }
        XCTAssertNil(format.platformReply(topic: "/sys/a1B2c3/gw-07/thing/service/property/set", payload: Array(#"{"id":"1"}"#.utf8)))
        XCTAssertEqual(format.replyTopics, ["/sys/a1B2c3/gw-07/thing/event/+/post_reply", "/sys/a1B2c3/gw-07/thing/event/property/history/post_reply"])
    }

    func testADeviceWithItsOwnIdentityPostsAsASubDeviceLoggedInOnConnect() throws {
        let sub = AlinkFormat(productKey: "a1B2c3", deviceName: "gw-07", subDevices: ["gas-2": .init(productKey: "k9", deviceName: "pump-gas")],
                              sign: { device, content in "signed(\(device):\(content))" }, nowMs: { 1_795_900_000_000 })
        let sentAt = WallTime(milliseconds: t0 + 100, clockSynced: true)
        let messages = sub.messages(for: batch([reading("gas-1", "gas", .float(1), at: t0), reading("gas-2", "gas", .float(2), at: t0),
                                                reading("gas-2", "fault", .bool(false), at: t0)]), sentAt: sentAt, status: nil)
        XCTAssertEqual(messages.map(\.topic), ["/sys/a1B2c3/gw-07/thing/event/property/post", "/sys/k9/pump-gas/thing/event/property/post"])
        XCTAssertEqual(text(messages[1]), #"{"id":"42","version":"1.0","params":{"gas":{"value":2.0,"time":1795900000000},"fault":{"value":0,"time":1795900000000}},"method":"thing.event.property.post"}"#,
                       "its own properties: the point ids")
        XCTAssertTrue(sub.replyTopics.contains("/sys/k9/pump-gas/thing/event/+/post_reply"))

        let hello = sub.announcements(status: nil)
        XCTAssertEqual(hello.map(\.topic), ["/sys/a1B2c3/gw-07/thing/topo/add", "/ext/session/a1B2c3/gw-07/combine/batch_login"])
        let add = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(hello[0].payload)) as? [String: Any])
        XCTAssertEqual(add["method"] as? String, "thing.topo.add")
        let entry = try XCTUnwrap((add["params"] as? [[String: String]])?.first)
        XCTAssertEqual(entry, ["productKey": "k9", "deviceName": "pump-gas", "clientId": "k9.pump-gas", "timestamp": "1795900000000", "signmethod": "hmacSha256",
                               "sign": "signed(gas-2:clientIdk9.pump-gasdeviceNamepump-gasproductKeyk9timestamp1795900000000)"])
        let login = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(hello[1].payload)) as? [String: Any])
        let params = try XCTUnwrap(login["params"] as? [String: Any])
        XCTAssertEqual(params["signMethod"] as? String, "hmacSha256")
        XCTAssertEqual((params["deviceList"] as? [[String: String]])?.first?["cleanSession"], "false")
        XCTAssertTrue(format.announcements(status: nil).isEmpty, "no sub-devices, nothing to announce")
    }

    func testASubDeviceWithoutASessionIsLoggedInAgainAtOnce() throws {
        let sub = AlinkFormat(productKey: "a1B2c3", deviceName: "gw-07", subDevices: ["gas-2": .init(productKey: "k9", deviceName: "pump-gas"),
                                                                                     "gas-3": .init(productKey: "k9", deviceName: "tank-gas")],
                              sign: { device, content in "signed(\(device):\(content))" }, nowMs: { 1_795_900_000_000 })
        let gone = Array(#"{"code":520,"id":"42","message":"device session error"}"#.utf8)
        let reply = try XCTUnwrap(sub.platformReply(topic: "/sys/k9/tank-gas/thing/event/property/post_reply", payload: gone))
        guard case .retry(_, let reason) = reply.outcome else { return XCTFail("the post goes again, after its login") }
        XCTAssertTrue(reason.hasPrefix("Alink 520 device session error"), reason)
        XCTAssertEqual(reply.followUp.map(\.topic), ["/ext/session/a1B2c3/gw-07/combine/batch_login"])
        let login = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(reply.followUp[0].payload)) as? [String: Any])
        let devices = try XCTUnwrap((login["params"] as? [String: Any])?["deviceList"] as? [[String: String]])
        XCTAssertEqual(devices.map { $0["deviceName"] }, ["tank-gas"], "only the one the platform named")
        XCTAssertEqual(devices.first?["sign"], "signed(gas-3:clientIdk9.tank-gasdeviceNametank-gasproductKeyk9timestamp1795900000000)")

        XCTAssertEqual(sub.platformReply(topic: "/sys/a1B2c3/gw-07/thing/event/property/post_reply", payload: gone)?.followUp, [],
                       "the gateway's own session is its connection")
        let busy = Array(#"{"code":500,"id":"42","message":"busy"}"#.utf8)
        XCTAssertEqual(sub.platformReply(topic: "/sys/k9/tank-gas/thing/event/property/post_reply", payload: busy)?.followUp, [])
    }

    func testIdentifiersKeepOnlyWhatAlinkAllows() {
        XCTAssertEqual(AlinkFormat.identifier(device: "gas-1", point: "gas"), "gas_1_gas")
        XCTAssertEqual(AlinkFormat.identifier(device: "泵房.A", point: "level"), "___A_level")
        // Printable ASCII goes byte by byte: each character as the rule says.
        let printable = String(decoding: Array(0x20...0x7E) as [UInt8], as: UTF8.self)
        let expected = String(printable.map { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" ? $0 : "_" })
        XCTAssertEqual(AlinkFormat.identifier(device: printable, point: "p"), expected + "_p")
        XCTAssertEqual(AlinkFormat.identifier(device: "a\r\nb", point: "p"), "a_b_p", "CR LF is one character: one _")
    }
}

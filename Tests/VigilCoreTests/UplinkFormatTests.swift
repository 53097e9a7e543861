import Foundation
import XCTest
@testable import VigilCore
import VigilTestSupport

final class UplinkFormatTests: XCTestCase {
    func testHTTPStatusesMapToOutcomes() {
        XCTAssertEqual(UplinkOutcome.forHTTP(status: 200, retryAfter: nil, body: ""), .delivered)
        XCTAssertEqual(UplinkOutcome.forHTTP(status: 204, retryAfter: nil, body: ""), .delivered)
        XCTAssertEqual(UplinkOutcome.forHTTP(status: 429, retryAfter: " 7\r\n", body: "slow down\n"), .retry(afterMs: 7000, reason: "HTTP 429: slow down"))
        XCTAssertEqual(UplinkOutcome.forHTTP(status: 503, retryAfter: "Wed, 21 Oct 2026 07:28:00 GMT", body: ""), .retry(afterMs: nil, reason: "HTTP 503"))
        XCTAssertEqual(UplinkOutcome.forHTTP(status: 408, retryAfter: nil, body: ""), .retry(afterMs: nil, reason: "HTTP 408"))
        XCTAssertEqual(UplinkOutcome.forHTTP(status: 400, retryAfter: nil, body: "bad field"), .rejected(reason: "HTTP 400: bad field"))
        XCTAssertEqual(UplinkOutcome.forHTTP(status: 422, retryAfter: nil, body: ""), .rejected(reason: "HTTP 422"))
        XCTAssertEqual(UplinkOutcome.forHTTP(status: 413, retryAfter: nil, body: "too big"), .tooLarge(reason: "HTTP 413: too big"))
        // Credentials, not content: held and retried until the token is fixed.
        for status in [401, 403, 407] {
            XCTAssertEqual(UplinkOutcome.forHTTP(status: status, retryAfter: nil, body: ""), .unauthorized(reason: "authentication refused (HTTP \(status))"))
        }
        // A wrong URL is a setting to fix, not data to throw away.
        XCTAssertEqual(UplinkOutcome.forHTTP(status: 404, retryAfter: nil, body: ""), .retry(afterMs: nil, reason: "HTTP 404"))
    }

    func testBatchJSONIsTheDocumentedContract() throws {
        let records = [StoredRecord(seq: 7, record: reading(7)), StoredRecord(seq: 9, record: event(9))]
        let batch = UplinkBatch(gateway: "gw-1", lane: .telemetry, firstSeq: 7, lastSeq: 9, records: records)
        XCTAssertEqual(batch.id, "gw-1-7-9")
        let status = GatewayStatus(uptimeSeconds: 12, pending: [.telemetry: 3], oldestPendingMs: nil, dropped: [.telemetry: 2],
                                   corruptRecords: 0, deadLetters: 1, devices: [(id: "gas-1", state: "online")])
        let json = try JSONSerialization.jsonObject(with: Data(batch.json(sentAt: WallTime(milliseconds: 0, clockSynced: true), status: status))) as! [String: Any]
        XCTAssertEqual(json["gateway"] as? String, "gw-1")
        XCTAssertEqual(json["batch_id"] as? String, "gw-1-7-9")
        XCTAssertEqual(json["first_seq"] as? Int, 7)
        XCTAssertEqual(json["last_seq"] as? Int, 9)
        XCTAssertEqual(json["sent_at"] as? String, "1970-01-01T00:00:00.000Z")
        XCTAssertEqual((json["readings"] as? [[String: Any]])?.map { $0["seq"] as? Int }, [7])
        XCTAssertEqual((json["events"] as? [[String: Any]])?.map { $0["event"] as? String }, ["device_offline"])
        let s = json["status"] as! [String: Any]
        XCTAssertEqual((s["dropped"] as? [String: Int])?["telemetry"], 2)
        XCTAssertEqual((s["devices"] as? [String: String])?["gas-1"], "online")
        XCTAssertEqual(s["dead_letters"] as? Int, 1)
    }

    /// `send_raw: false`: the readings lose `raw` and nothing else, over HTTP and over MQTT alike.
    func testABatchWithoutRawRegistersLosesOnlyThem() throws {
        let records = [StoredRecord(seq: 7, record: reading(7)), StoredRecord(seq: 9, record: event(9))]
        let batch = UplinkBatch(gateway: "gw-1", lane: .telemetry, firstSeq: 7, lastSeq: 9, records: records)
        let sentAt = WallTime(milliseconds: 0, clockSynced: true)
        func object(_ bytes: [UInt8]) throws -> [String: Any] { try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any] }
        var full = try object(VigilBodyFormat().body(for: batch, sentAt: sentAt, status: nil))
        let lean = VigilBodyFormat(sendRaw: false).body(for: batch, sentAt: sentAt, status: nil)
        XCTAssertEqual(VigilMessageFormat(gateway: "gw-1", prefix: "vigil", sendRaw: false).messages(for: batch, sentAt: sentAt, status: nil)[0].payload, lean,
                       "MQTT carries the same batch")
        var readings = try XCTUnwrap(full["readings"] as? [[String: Any]])
        XCTAssertEqual(readings[0]["raw"] as? String, "41bb 0000", "sent by default")
        readings[0]["raw"] = nil
        full["readings"] = readings
        XCTAssertEqual(try object(lean) as NSDictionary, full as NSDictionary, "only raw is left out")
        XCTAssertFalse(String(decoding: lean, as: UTF8.self).contains("raw"))
    }
}

final class BatchScannerTests: XCTestCase {
    func scan(_ text: String) throws -> (BatchScanner.Batch, [String], [String]) {
        let bytes = Array(text.utf8)
        let batch = try bytes.withUnsafeBytes { try BatchScanner.scan($0) }
        return (batch, batch.readings.map { String(decoding: bytes[$0], as: UTF8.self) }, batch.events.map { String(decoding: bytes[$0], as: UTF8.self) })
    }

    func testFindsTheRecordsOfABatchWeEncode() throws {
        let records = [StoredRecord(seq: 1, record: reading(1)), StoredRecord(seq: 2, record: event(2)),
                       StoredRecord(seq: 3, record: reading(3, value: .string("a \"quoted\" ] } text")))]
        let json = UplinkBatch(gateway: "gw", lane: .telemetry, firstSeq: 1, lastSeq: 3, records: records)
            .json(sentAt: WallTime(milliseconds: 0, clockSynced: true), status: nil)
        let (batch, readings, events) = try scan(String(decoding: json, as: UTF8.self))
        XCTAssertFalse(batch.heartbeat)
        XCTAssertEqual(readings, [RecordJSON.line(records[0].record, seq: 1), RecordJSON.line(records[2].record, seq: 3)])
        XCTAssertEqual(events, [RecordJSON.line(records[1].record, seq: 2)])
    }

    func testHeartbeatsAndEmptyArrays() throws {
        XCTAssertTrue(try scan(#"{"gateway":"g","heartbeat":true,"status":{"a":[1,2,{"b":null}]}}"#).0.heartbeat)
        XCTAssertEqual(try scan(#" { "readings" : [ ] , "events":[] } "#).0.readings.count, 0)
    }

    func testMalformedJSONIsRefusedWithWhere() {
        for bad in [#"{"readings":[{"seq":1}"#, #"{"readings":[{"seq":1},]}"#, #"{"events":[{"x":"unterminated}]}"#,
                    #"{"readings":[tru]}"#, #"{"a":1} trailing"#, #"["not","an","object"]"#, "", #"{"readings":[{"seq":-}]}"#] {
            XCTAssertThrowsError(try scan(bad), bad)
        }
    }
}

final class MQTTFormatTests: XCTestCase {
    let format = VigilMessageFormat(gateway: "riverbank-07", prefix: "vigil")

    func testABatchIsOneMessageOnItsLanesTopic() throws {
        let batch = UplinkBatch(gateway: "riverbank-07", lane: .telemetry, firstSeq: 5, lastSeq: 6,
                                records: [StoredRecord(seq: 5, record: reading(5)), StoredRecord(seq: 6, record: reading(6))])
        let sentAt = WallTime(milliseconds: fixtureEpochMs, clockSynced: true)
        let messages = format.messages(for: batch, sentAt: sentAt, status: nil)
        XCTAssertEqual(messages.count, 1)
        XCTAssertEqual(messages[0].topic, "vigil/riverbank-07/telemetry")
        XCTAssertFalse(messages[0].retain)
        XCTAssertEqual(messages[0].payload, batch.json(sentAt: sentAt, status: nil), "the batch JSON of docs/uplink-protocol.md, unchanged")
        let events = UplinkBatch(gateway: "riverbank-07", lane: .events, firstSeq: 7, lastSeq: 7, records: [StoredRecord(seq: 7, record: event(7))])
        XCTAssertEqual(format.messages(for: events, sentAt: sentAt, status: nil)[0].topic, "vigil/riverbank-07/events")
    }

    func testPresenceIsRetainedOnTheStatusTopic() throws {
        let sentAt = WallTime(milliseconds: fixtureEpochMs, clockSynced: true)
        let will = try XCTUnwrap(format.presence(online: false, status: nil, sentAt: sentAt))
        XCTAssertEqual(will.topic, "vigil/riverbank-07/status")
        XCTAssertTrue(will.retain)
        XCTAssertEqual(String(decoding: will.payload, as: UTF8.self), #"{"online":false,"gateway":"riverbank-07"}"#)
        let online = try XCTUnwrap(format.presence(online: true, status: nil, sentAt: sentAt))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(online.payload)) as? [String: Any])
        XCTAssertEqual(json["online"] as? Bool, true)
        XCTAssertEqual(json["sent_at"] as? String, sentAt.iso8601)
    }

    func testPUBACKReasonCodes() {
        XCTAssertEqual(MQTTReason.publishOutcome(0, name: "Success", topic: "t"), .delivered)
        XCTAssertEqual(MQTTReason.publishOutcome(0x10, name: "No matching subscribers", topic: "t"), .delivered, "no subscriber is still accepted by the broker")
        XCTAssertEqual(MQTTReason.publishOutcome(0x87, name: "Not authorized", topic: "v/gw/telemetry"),
                       .laneRefused(reason: "not allowed to publish on v/gw/telemetry (check the broker's ACL for this client): broker answered PUBACK 135 (Not authorized) on v/gw/telemetry"),
                       "the credentials were accepted at CONNECT: the topic is refused, this lane waits")
        XCTAssertEqual(MQTTReason.publishOutcome(0x95, name: "Packet too large", topic: "t"), .tooLarge(reason: "broker answered PUBACK 149 (Packet too large) on t"))
        XCTAssertEqual(MQTTReason.publishOutcome(0x97, name: "Quota exceeded", topic: "t"), .laneRefused(reason: "broker answered PUBACK 151 (Quota exceeded) on t"))
        XCTAssertTrue(MQTTReason.isAuthenticationRefusal(connack: 5, version: .v311))
        XCTAssertTrue(MQTTReason.isAuthenticationRefusal(connack: 0x86, version: .v5))
        XCTAssertFalse(MQTTReason.isAuthenticationRefusal(connack: 3, version: .v311), "server unavailable is not about credentials")
    }

    func testRetryBackoffHasFullJitterUnderADoublingCeiling() {
        var backoff = RetryBackoff()
        var ceilings: [Int64] = []
        for _ in 0..<12 { ceilings.append(backoff.next(serverAskedMs: nil)) }
        XCTAssertLessThanOrEqual(ceilings[0], 1_000_000_000, "the first wait is at most 1 s")
        XCTAssertLessThanOrEqual(ceilings[2], 4_000_000_000)
        XCTAssertTrue(ceilings.allSatisfy { $0 <= 300_000_000_000 }, "capped at 5 minutes")
        XCTAssertEqual(backoff.next(serverAskedMs: 400_000), 300_000_000_000, "a Retry-After is honoured up to the cap")
        backoff.reset()
        XCTAssertLessThanOrEqual(backoff.next(serverAskedMs: nil), 1_000_000_000, "reset: back to at most 1 s")
        var fresh = RetryBackoff()
        XCTAssertGreaterThanOrEqual(fresh.next(serverAskedMs: 2000), 2_000_000_000, "Retry-After is a floor")
    }
}

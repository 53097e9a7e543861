import Foundation
import XCTest
@testable import VigilCore
import VigilTestSupport

final class ThingsBoardFormatTests: XCTestCase {
    let format = ThingsBoardFormat(devices: [
        .init(id: "gas-1", type: "gas-detector", attributes: [("profile", "gas-detector"), ("gas_unit", "%LEL")]),
        .init(id: "level-1", type: "default", attributes: []),
    ])
    let t0 = WallTime(milliseconds: 1_000_000, clockSynced: true)

    func json(_ message: UplinkMessage) throws -> Any { try JSONSerialization.jsonObject(with: Data(message.payload)) }

    func read(_ device: String, _ point: String, _ value: PointValue?, at time: WallTime, quality: Quality = .good, error: String? = nil) -> StoredRecord {
        StoredRecord(seq: 0, record: .reading(Reading(timestamp: time, device: device, point: point, value: value, raw: RawRegisters(words: [0x0001]),
                                                      unit: nil, label: nil, quality: quality, error: error)))
    }

    func testOnePollIsOneEntryUnderItsTimestampPerDevice() throws {
        let t1 = WallTime(milliseconds: 1_001_000, clockSynced: true)
        let records = [read("gas-1", "gas", .float(2.5), at: t0), read("gas-1", "status", .uint(0), at: t0),
                       read("level-1", "level", .double(1.25), at: t0), read("gas-1", "gas", .float(3), at: t1)]
        let messages = format.messages(for: UplinkBatch(gateway: "gw", lane: .telemetry, firstSeq: 1, lastSeq: 4, records: records), sentAt: t1, status: nil)
        XCTAssertEqual(messages.map(\.topic), ["v1/gateway/telemetry"])
        let body = try json(messages[0]) as! [String: [[String: Any]]]
        XCTAssertEqual(body["gas-1"]?.map { $0["ts"] as? Int }, [1_000_000, 1_001_000])
        XCTAssertEqual(body["gas-1"]?[0]["values"] as? [String: Double], ["gas": 2.5, "status": 0])
        XCTAssertEqual(body["gas-1"]?[1]["values"] as? [String: Double], ["gas": 3])
        XCTAssertEqual(body["level-1"]?[0]["values"] as? [String: Double], ["level": 1.25])
    }

    func testBadAndStaleReadingsAndAnUnsyncedClockAreTellable() throws {
        let unsynced = WallTime(milliseconds: 5, clockSynced: false)
        let records = [read("gas-1", "gas", nil, at: unsynced, quality: .bad, error: "timeout"),
                       read("gas-1", "status", .uint(1), at: unsynced, quality: .stale, error: "heartbeat register not advancing")]
        let message = format.messages(for: UplinkBatch(gateway: "gw", lane: .telemetry, firstSeq: 1, lastSeq: 2, records: records), sentAt: t0, status: nil)[0]
        let values = (try json(message) as! [String: [[String: Any]]])["gas-1"]![0]["values"] as! [String: Any]
        XCTAssertNil(values["gas"], "a bad reading has no value to plot")
        XCTAssertEqual(values["gas_quality"] as? String, "bad")
        XCTAssertEqual(values["gas_error"] as? String, "timeout")
        XCTAssertEqual(values["status"] as? Int, 1, "a stale reading keeps its value, marked")
        XCTAssertEqual(values["status_quality"] as? String, "stale")
        XCTAssertEqual(values["clock_synced"] as? Bool, false)
    }

    func testAlarmEventsSetKeysARuleChainCanRaiseAndClearOn() throws {
        let info = AlarmInfo(point: "gas", level: .high, severity: "major", value: 26, setpoint: 25, triggerSeq: 3)
        func alarm(_ kind: Event.Kind, _ seq: UInt64) -> StoredRecord {
            StoredRecord(seq: seq, record: .event(Event(timestamp: t0, kind: kind, device: "gas-1", alarm: info)))
        }
        let batch = UplinkBatch(gateway: "gw", lane: .events, firstSeq: 4, lastSeq: 6, records: [alarm(.alarmRaised, 4), alarm(.alarmAcked, 5), alarm(.alarmCleared, 6)])
        let messages = format.messages(for: batch, sentAt: t0, status: nil)
        XCTAssertEqual(messages.map(\.topic), Array(repeating: "v1/gateway/telemetry", count: 3), "one message per event, in order")
        let values = try messages.map { try (json($0) as! [String: [[String: Any]]])["gas-1"]![0]["values"] as! [String: Any] }
        XCTAssertEqual(values[0]["alarm_gas_high"] as? Bool, true)
        XCTAssertEqual(values[0]["alarm_gas_high_acked"] as? Bool, false)
        XCTAssertEqual(values[0]["event"] as? String, "alarm_raised")
        XCTAssertEqual(values[0]["event_seq"] as? Int, 4)
        XCTAssertEqual(values[0]["alarm_severity"] as? String, "major")
        XCTAssertEqual(values[0]["alarm_value"] as? Double, 26)
        XCTAssertEqual(values[1]["alarm_gas_high_acked"] as? Bool, true)
        XCTAssertNil(values[1]["alarm_gas_high"])
        XCTAssertEqual(values[2]["alarm_gas_high"] as? Bool, false)
    }

    func testDeviceStateIsConnectAndDisconnectAndGatewayEventsAreTheGatewaysOwn() throws {
        let records = [StoredRecord(seq: 1, record: .event(Event(timestamp: t0, kind: .deviceOffline, device: "gas-1", detail: "timeout"))),
                       StoredRecord(seq: 2, record: .event(Event(timestamp: t0, kind: .deviceOnline, device: "gas-1"))),
                       StoredRecord(seq: 3, record: .event(Event(timestamp: t0, kind: .busFailed, bus: "rs485")))]
        let messages = format.messages(for: UplinkBatch(gateway: "gw", lane: .events, firstSeq: 1, lastSeq: 3, records: records), sentAt: t0, status: nil)
        XCTAssertEqual(messages.map(\.topic), ["v1/gateway/telemetry", "v1/gateway/disconnect", "v1/gateway/connect", "v1/gateway/telemetry", "v1/devices/me/telemetry"])
        XCTAssertEqual(try json(messages[1]) as? [String: String], ["device": "gas-1"])
        XCTAssertEqual(try json(messages[2]) as? [String: String], ["device": "gas-1", "type": "gas-detector"])
        let gateway = try json(messages[4]) as! [String: Any]
        XCTAssertEqual(gateway["ts"] as? Int, 1_000_000)
        XCTAssertEqual((gateway["values"] as? [String: Any])?["bus"] as? String, "rs485")
    }

    func testEveryConnectAnnouncesDevicesButNotOfflineOnesAndTheirAttributes() throws {
        let status = GatewayStatus(uptimeSeconds: 1, pending: [:], oldestPendingMs: nil, dropped: [:], corruptRecords: 0, deadLetters: 0,
                                   devices: [(id: "gas-1", state: "online"), (id: "level-1", state: "offline")])
        let messages = format.announcements(status: status)
        XCTAssertEqual(messages.map(\.topic), ["v1/gateway/connect", "v1/gateway/attributes"])
        XCTAssertEqual(try json(messages[0]) as? [String: String], ["device": "gas-1", "type": "gas-detector"])
        XCTAssertEqual(try json(messages[1]) as? [String: [String: String]], ["gas-1": ["profile": "gas-detector", "gas_unit": "%LEL"], "level-1": [:]])
        XCTAssertEqual(format.announcements(status: nil).filter { $0.topic == "v1/gateway/connect" }.count, 2, "before any status: every device")
    }

    func testPresenceIsTheGatewaysTelemetryAndThereIsNoWill() throws {
        XCTAssertNil(format.presence(online: false, status: nil, sentAt: t0))
        let status = GatewayStatus(uptimeSeconds: 42, pending: [.events: 2], oldestPendingMs: nil, dropped: [.telemetry: 7], corruptRecords: 1, deadLetters: 0,
                                   devices: [(id: "gas-1", state: "online")],
                                   alarms: [StatusAlarm(device: "gas-1", point: "gas", level: .high), StatusAlarm(device: "gas-1", point: "gas", level: .highhigh)],
                                   journalError: "write: Read-only file system")
        let online = try XCTUnwrap(format.presence(online: true, status: status, sentAt: t0))
        XCTAssertEqual(online.topic, "v1/devices/me/telemetry")
        let values = (try json(online) as! [String: Any])["values"] as! [String: Any]
        XCTAssertEqual(values["uptime_s"] as? Int, 42)
        XCTAssertEqual(values["queue_events"] as? Int, 2)
        XCTAssertEqual(values["dropped_telemetry"] as? Int, 7)
        XCTAssertEqual(values["devices_online"] as? Int, 1)
        // What a rule chain alarms on while the disk holds the alarm events back.
        XCTAssertEqual(values["active_alarms"] as? Int, 2)
        XCTAssertEqual(values["alarms"] as? String, "gas-1/gas/high,gas-1/gas/highhigh")
        XCTAssertEqual(values["journal_error"] as? String, "write: Read-only file system")
    }

    func testRPCRequestsAreParsedAndAnsweredPerTheAPI() throws {
        func command(_ text: String) -> RemoteCommand? { format.command(topic: "v1/gateway/rpc", payload: Array(text.utf8)) }
        let ack = try XCTUnwrap(command(#"{"device":"gas-1","data":{"id":12,"method":"alarm_ack","params":{"point":"gas","level":"high"}}}"#))
        XCTAssertEqual(ack, RemoteCommand(device: "gas-1", idJSON: "12", method: "alarm_ack", action: .alarmAck(point: "gas", level: .high)))
        XCTAssertEqual(command(#"{"device":"gas-1","data":{"id":1,"method":"read","params":{"table":"input","address":3,"count":2}}}"#)?.action,
                       .read(table: .input, address: 3, count: 2))
        XCTAssertEqual(command(#"{"device":"gas-1","data":{"id":"a","method":"write","params":{"address":40,"value":7}}}"#)?.action,
                       .write(table: .holding, address: 40, values: [7]))
        XCTAssertEqual(command(#"{"device":"gas-1","data":{"id":"a","method":"write","params":{"table":"input","address":40,"value":7}}}"#)?.action,
                       .invalid("write: table input cannot be written (holding or coil)"))
        XCTAssertEqual(command(#"{"device":"gas-1","data":{"id":2,"method":"reboot"}}"#)?.action,
                       .invalid("unknown method \"reboot\"; the gateway answers alarm_ack, read, write"))
        // Our own reply comes back on the shared topic: not a command.
        XCTAssertNil(command(#"{"device":"gas-1","id":12,"data":{"success":true}}"#))
        XCTAssertNil(format.command(topic: "v1/gateway/rpc", payload: Array("not json".utf8)))

        let ok = try XCTUnwrap(format.reply(to: ack, .success(members: #""acknowledged":["gas-1/gas/high"]"#)))
        XCTAssertEqual(ok.topic, "v1/gateway/rpc")
        let okBody = try json(ok) as! [String: Any]
        XCTAssertEqual(okBody["device"] as? String, "gas-1")
        XCTAssertEqual(okBody["id"] as? Int, 12)
        XCTAssertEqual((okBody["data"] as? [String: Any])?["success"] as? Bool, true)
        let failed = try json(XCTUnwrap(format.reply(to: RemoteCommand(device: "gas-1", idJSON: #""a""#, method: "write", action: .write(table: .holding, address: 1, values: [1])),
                                                     .failure("not allowed")))) as! [String: Any]
        XCTAssertEqual(failed["id"] as? String, "a")
        let data = try XCTUnwrap(failed["data"] as? [String: Any])
        XCTAssertEqual(data["success"] as? Bool, false)
        XCTAssertEqual(data["error"] as? String, "not allowed")
    }

    func testWritesNeedAGrantForEveryRegister() {
        let policy = RemoteCommandPolicy(allowWrites: [RemoteCommandPolicy.WriteGrant(parsing: "gas-1/holding:40")!, RemoteCommandPolicy.WriteGrant(parsing: "relay-1/*")!])
        XCTAssertTrue(policy.allowsWrite(device: "gas-1", table: .holding, address: 40, count: 1))
        XCTAssertFalse(policy.allowsWrite(device: "gas-1", table: .holding, address: 40, count: 2), "41 is not granted")
        XCTAssertFalse(policy.allowsWrite(device: "gas-1", table: .coil, address: 40, count: 1))
        XCTAssertFalse(policy.allowsWrite(device: "gas-2", table: .holding, address: 40, count: 1))
        XCTAssertTrue(policy.allowsWrite(device: "relay-1", table: .coil, address: 3, count: 4))
        XCTAssertFalse(RemoteCommandPolicy().allowsWrite(device: "gas-1", table: .holding, address: 0, count: 1), "default: no writes")
        XCTAssertNil(RemoteCommandPolicy.WriteGrant(parsing: "gas-1/input:3"), "input registers cannot be written")
        XCTAssertNil(RemoteCommandPolicy.WriteGrant(parsing: "gas-1"))
    }
}

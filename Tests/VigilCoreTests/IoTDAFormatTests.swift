import Foundation
import XCTest
@testable import VigilCore
import VigilTestSupport

final class IoTDAFormatTests: XCTestCase {
    let t0 = fixtureEpochMs
    let format = IoTDAFormat(gatewayID: "gw_node", serviceID: "gas_detector", childIDs: ["gas-1": "p1_gas-1", "gas-2": "p1_gas-2"])

    func reading(_ device: String, _ point: String, _ value: PointValue?, at ms: Int64) -> Record {
        .reading(Reading(timestamp: WallTime(milliseconds: ms, clockSynced: true), device: device, point: point, value: value, raw: .none,
                         unit: nil, label: nil, quality: value == nil ? .bad : .good, error: nil))
    }

    func batch(_ records: [Record], lane: JournalLane = .telemetry) -> UplinkBatch {
        UplinkBatch(gateway: "gw", lane: lane, firstSeq: 1, lastSeq: UInt64(records.count),
                    records: records.enumerated().map { StoredRecord(seq: UInt64($0.offset + 1), record: $0.element) })
    }

    func testPollsGoAsChildDeviceReportsEachChildOnceAReport() {
        let messages = format.messages(for: batch([
            reading("gas-1", "gas", .float(2.45), at: t0),
            reading("gas-1", "alarm1", .bool(false), at: t0),
            reading("gas-1", "unit_code", nil, at: t0), // failed: not reported
            reading("gas-2", "gas", .float(0), at: t0 + 5),
            reading("other", "gas", .float(1), at: t0), // no IoTDA id
            reading("gas-1", "gas", .float(2.5), at: t0 + 1000),
        ]), sentAt: WallTime(milliseconds: t0 + 2000, clockSynced: true), status: nil)
        XCTAssertEqual(messages.map(\.topic), Array(repeating: "$oc/devices/gw_node/sys/gateway/sub_devices/properties/report", count: 2))
        XCTAssertEqual(String(decoding: messages[0].payload, as: UTF8.self),
                       #"{"devices":[{"device_id":"p1_gas-1","services":[{"service_id":"gas_detector","properties":{"gas":2.45,"alarm1":false},"event_time":"2026-11-28T21:06:40.000Z"}]},"#
                       + #"{"device_id":"p1_gas-2","services":[{"service_id":"gas_detector","properties":{"gas":0.0},"event_time":"2026-11-28T21:06:40.005Z"}]}]}"#)
        XCTAssertEqual(String(decoding: messages[1].payload, as: UTF8.self),
                       #"{"devices":[{"device_id":"p1_gas-1","services":[{"service_id":"gas_detector","properties":{"gas":2.5},"event_time":"2026-11-28T21:06:41.000Z"}]}]}"#)
        XCTAssertTrue(messages.allSatisfy { $0.replyID == nil && $0.qos == 1 }, "the PUBACK is the commit point: IoTDA does not answer reports")
    }

    func testAtMostAHundredChildrenAReport() throws {
        let ids = Dictionary(uniqueKeysWithValues: (0..<150).map { ("d\($0)", "p_d\($0)") })
        let wide = IoTDAFormat(gatewayID: "gw", serviceID: "s", childIDs: ids)
        let messages = wide.messages(for: batch((0..<150).map { reading("d\($0)", "x", .int(1), at: t0) }), sentAt: WallTime(milliseconds: t0, clockSynced: true), status: nil)
        let counts = try messages.map { m in ((try JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any])?["devices"] as? [Any])?.count }
        XCTAssertEqual(counts, [100, 50])
    }

    func testChildStatusAndAlarmsAreEvents() {
        let time = WallTime(milliseconds: t0, clockSynced: true)
        let offline = Event(timestamp: time, kind: .deviceOffline, device: "gas-2", detail: "timeout")
        let raised = Event(timestamp: time, kind: .alarmRaised, device: "gas-1",
                           alarm: AlarmInfo(point: "gas", level: .highhigh, severity: nil, value: 52, setpoint: 50, triggerSeq: 1))
        let messages = format.messages(for: batch([.event(offline), .event(raised)], lane: .events), sentAt: time, status: nil)
        XCTAssertEqual(messages.map(\.topic), ["$oc/devices/gw_node/sys/events/up", "$oc/devices/gw_node/sys/events/up"])
        XCTAssertEqual(String(decoding: messages[0].payload, as: UTF8.self),
                       #"{"object_device_id":"gw_node","services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status","event_time":"2026-11-28T21:06:40.000Z","paras":{"device_statuses":[{"device_id":"p1_gas-2","status":"OFFLINE"}]}}]}"#)
        XCTAssertEqual(String(decoding: messages[1].payload, as: UTF8.self),
                       #"{"object_device_id":"p1_gas-1","services":[{"service_id":"gas_detector","event_type":"alarm","event_time":"2026-11-28T21:06:40.000Z","paras":{"point":"gas","level":"highhigh","state":"raised","value":52.0,"setpoint":50.0}}]}"#)
    }
}

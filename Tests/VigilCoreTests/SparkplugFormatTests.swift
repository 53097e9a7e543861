import XCTest
@testable import VigilCore
import VigilTestSupport

final class SparkplugFormatTests: XCTestCase {
    let gas = PointSpec(id: "gas", table: .holding, address: 2, type: .float32, unit: "%LEL")
    let setpoint = PointSpec(id: "setpoint", table: .holding, address: 20, type: .uint16)
    let relay = PointSpec(id: "relay", table: .coil, address: 0, type: .bool)
    let scaled = PointSpec(id: "level", table: .holding, address: 4, type: .uint16, scale: 0.01)
    let t0 = WallTime(milliseconds: 1_000_000, clockSynced: true)

    func format(qos: Int32 = 0, host: String? = nil, last: UInt64? = nil, saved: SavedBdSeqs? = nil) -> SparkplugFormat {
        SparkplugFormat(group: "plant", edgeNode: "gw-7", primaryHost: host, devices: [.init(id: "gas-1", points: [gas, setpoint, relay, scaled])],
                        dataQoS: qos, lastBdSeq: last, saveBdSeq: { v in saved?.values.append(v) })
    }

    func decode(_ m: UplinkMessage) throws -> SparkplugPayload { try XCTUnwrap(SparkplugPayload.decode(m.payload)) }

    func reading(_ point: String, _ value: PointValue?, at ms: Int64, quality: Quality = .good) -> StoredRecord {
        StoredRecord(seq: 1, record: .reading(Reading(timestamp: WallTime(milliseconds: ms, clockSynced: true), device: "gas-1", point: point,
                                                      value: value, raw: .none, unit: nil, label: nil, quality: quality, error: nil)))
    }

    func testProtobufRoundTripsEveryValueKind() throws {
        let metrics = [SparkplugMetric(name: "a", datatype: .int16, value: .int(-5), timestamp: 7),
                       SparkplugMetric(name: "b", datatype: .uint64, value: .uint(UInt64.max)),
                       SparkplugMetric(name: "c", datatype: .float, value: .float(2.5), isHistorical: true),
                       SparkplugMetric(name: "d", datatype: .double, value: .double(-0.125)),
                       SparkplugMetric(name: "e", datatype: .boolean, value: .bool(true)),
                       SparkplugMetric(name: "f", datatype: .string, value: .string("héllo")),
                       SparkplugMetric(name: "g", datatype: .int64, value: .int(-1)),
                       SparkplugMetric(name: "h", datatype: .double, value: nil)]
        let payload = SparkplugPayload(timestamp: 1_795_900_000_000, seq: 255, metrics: metrics)
        let decoded = try XCTUnwrap(SparkplugPayload.decode(payload.encode()))
        XCTAssertEqual(decoded.timestamp, payload.timestamp)
        XCTAssertEqual(decoded.seq, 255)
        XCTAssertEqual(decoded.metrics.map(\.value), metrics.map(\.value))
        XCTAssertEqual(decoded.metrics.map(\.isHistorical), metrics.map(\.isHistorical))
        XCTAssertNil(SparkplugPayload.decode([0x12, 0x05, 0x0A]), "a truncated payload is refused, not read past its end")
        // A host may leave a command's datatype out: the value's field tells it (metric "x", boolean_value true).
        let untyped = try XCTUnwrap(SparkplugPayload.decode([0x12, 0x05, 0x0A, 0x01, 0x78, 0x70, 0x01]))
        XCTAssertEqual(untyped.metrics.first?.value, SparkplugValue.bool(true))
    }

    func testEveryConnectionHasTheNextBdSeqInItsWillAndItsBirth() throws {
        let saved = SavedBdSeqs()
        let f = format(last: 254, saved: saved)
        f.nextConnection()
        let will = try XCTUnwrap(f.presence(online: false, status: nil, sentAt: t0))
        XCTAssertEqual(will.topic, "spBv1.0/plant/NDEATH/gw-7")
        XCTAssertEqual(will.qos, 1)
        XCTAssertNil(try decode(will).seq, "NDEATH has no seq")
        XCTAssertEqual(try decode(will).metrics.first?.value, SparkplugValue.int(255))
        let births = f.announcements(status: nil)
        XCTAssertEqual(births.map(\.topic), ["spBv1.0/plant/NBIRTH/gw-7", "spBv1.0/plant/DBIRTH/gw-7/gas-1"])
        let nbirth = try decode(births[0])
        XCTAssertEqual(nbirth.seq, 0)
        XCTAssertEqual(nbirth.metrics.first { $0.name == "bdSeq" }?.value, SparkplugValue.int(255), "the NBIRTH's bdSeq is the Will's")
        XCTAssertEqual(nbirth.metrics.first { $0.name == "Node Control/Rebirth" }?.value, SparkplugValue.bool(false))
        let dbirth = try decode(births[1])
        XCTAssertEqual(dbirth.seq, 1)
        XCTAssertEqual(dbirth.metrics.first { $0.name == "gas" }?.datatype, .float)
        XCTAssertEqual(dbirth.metrics.first { $0.name == "level" }?.datatype, .double, "a scaled register is a Double")
        XCTAssertEqual(dbirth.metrics.first { $0.name == "relay" }?.datatype, .boolean)
        f.nextConnection()
        XCTAssertEqual(try decode(XCTUnwrap(f.presence(online: false, status: nil, sentAt: t0))).metrics.first?.value, SparkplugValue.int(0), "255 wraps to 0")
        XCTAssertEqual(saved.values, [255, 0], "each bdSeq is stored before its CONNECT")
        XCTAssertEqual(format(last: nil).bdSeq, 255, "never connected: the first connection is 0")
    }

    /// The heartbeat's NDATA counts the active alarms: a host hears of one while the disk holds its event back.
    func testTheHeartbeatCountsTheActiveAlarms() throws {
        let f = format(last: nil)
        f.nextConnection()
        _ = f.announcements(status: nil)
        let status = GatewayStatus(uptimeSeconds: 1, pending: [:], oldestPendingMs: nil, dropped: [:], corruptRecords: 0, deadLetters: 0,
                                   devices: [], alarms: [StatusAlarm(device: "gas-1", point: "gas", level: .high)])
        let ndata = try decode(XCTUnwrap(f.presence(online: true, status: status, sentAt: t0)))
        XCTAssertEqual(ndata.metrics.first { $0.name == "Vigil/Active Alarms" }?.value, SparkplugValue.uint(1))
    }

    func testSeqCountsEveryMessageAfterNBirthAndWraps() throws {
        let f = format()
        f.nextConnection()
        _ = f.announcements(status: nil) // seq 0 and 1
        var seqs: [UInt64] = []
        for i in 0..<300 {
            let batch = UplinkBatch(gateway: "gw-7", lane: .telemetry, firstSeq: 1, lastSeq: 1, records: [reading("gas", .float(Float(i)), at: t0.milliseconds)])
            seqs += try f.messages(for: batch, sentAt: t0, status: nil).map { try XCTUnwrap(decode($0).seq) }
        }
        XCTAssertEqual(seqs.prefix(3), [2, 3, 4])
        XCTAssertEqual(seqs[253], 255)
        XCTAssertEqual(seqs[254], 0, "255 → 0")
        XCTAssertTrue(zip(seqs, seqs.dropFirst()).allSatisfy { ($0 + 1) % 256 == $1 })
        _ = f.announcements(status: nil)
        XCTAssertEqual(try decode(f.messages(for: UplinkBatch(gateway: "gw-7", lane: .telemetry, firstSeq: 1, lastSeq: 1, records: [reading("gas", .float(1), at: 0)]),
                                             sentAt: t0, status: nil)[0]).seq, 2, "a rebirth starts again at 0")
    }

    func testDataAtQoS0EndsWithAQoS1CommitPointAndMarksHistoryAndQuality() throws {
        let f = format()
        let records = [reading("gas", .float(2.5), at: t0.milliseconds - 60_000), reading("setpoint", nil, at: t0.milliseconds, quality: .bad),
                       reading("relay", .bool(true), at: t0.milliseconds, quality: .stale)]
        let messages = f.messages(for: UplinkBatch(gateway: "gw-7", lane: .telemetry, firstSeq: 40, lastSeq: 42, records: records), sentAt: t0, status: nil)
        XCTAssertEqual(messages.map(\.topic), ["spBv1.0/plant/DDATA/gw-7/gas-1", "spBv1.0/plant/NDATA/gw-7"])
        XCTAssertEqual(messages.map(\.qos), [0, 1])
        let data = try decode(messages[0]).metrics
        XCTAssertEqual(data[0].value, SparkplugValue.float(2.5))
        XCTAssertEqual(data[0].timestamp, t0.milliseconds - 60_000, "each metric at its poll's time")
        XCTAssertTrue(data[0].isHistorical, "a minute old at sending: the backlog")
        XCTAssertFalse(data[1].isHistorical)
        XCTAssertNil(data[1].value, "bad: is_null")
        XCTAssertEqual(data[1].datatype, .uint16)
        XCTAssertEqual(try decode(messages[1]).metrics.first?.value, SparkplugValue.uint(42), "the journal seq the PUBACK commits")
        XCTAssertEqual(format(qos: 1).messages(for: UplinkBatch(gateway: "gw-7", lane: .telemetry, firstSeq: 40, lastSeq: 42, records: records), sentAt: t0, status: nil).map(\.qos),
                       [1], "qos 1: every message has its PUBACK, no marker")
    }

    func testDeviceStateAndAlarmsAreBirthsDeathsAndMetrics() throws {
        let f = format()
        let info = AlarmInfo(point: "gas", level: .high, severity: nil, value: 26, setpoint: 25, triggerSeq: 3)
        let records = [StoredRecord(seq: 5, record: .event(Event(timestamp: t0, kind: .deviceOffline, device: "gas-1"))),
                       StoredRecord(seq: 6, record: .event(Event(timestamp: t0, kind: .deviceOnline, device: "gas-1"))),
                       StoredRecord(seq: 7, record: .event(Event(timestamp: t0, kind: .alarmRaised, device: "gas-1", alarm: info))),
                       StoredRecord(seq: 8, record: .event(Event(timestamp: t0, kind: .busFailed, bus: "rs485")))]
        let messages = f.messages(for: UplinkBatch(gateway: "gw-7", lane: .events, firstSeq: 5, lastSeq: 8, records: records), sentAt: t0, status: nil)
        XCTAssertEqual(messages.map(\.topic), ["spBv1.0/plant/DDEATH/gw-7/gas-1", "spBv1.0/plant/DBIRTH/gw-7/gas-1", "spBv1.0/plant/DDATA/gw-7/gas-1",
                                               "spBv1.0/plant/NDATA/gw-7", "spBv1.0/plant/NDATA/gw-7"])
        let alarm = try decode(messages[2]).metrics
        XCTAssertEqual(alarm.first { $0.name == "Alarm/State" }?.value, SparkplugValue.string("raised"))
        XCTAssertEqual(alarm.first { $0.name == "Alarm/Level" }?.value, SparkplugValue.string("high"))
        XCTAssertEqual(alarm.first { $0.name == "Alarm/Seq" }?.value, SparkplugValue.uint(7))
        XCTAssertEqual(try decode(messages[3]).metrics.first?.value, SparkplugValue.string("bus_failed: rs485"))
    }

    func testCommandsRebirthAndWritesAndThePrimaryHostsState() throws {
        let f = format(host: "scada-1")
        XCTAssertEqual(f.commandTopics, ["spBv1.0/plant/NCMD/gw-7", "spBv1.0/plant/DCMD/gw-7/+", "spBv1.0/STATE/scada-1"])
        let rebirth = SparkplugPayload(timestamp: 1, seq: nil, metrics: [SparkplugMetric(name: "Node Control/Rebirth", datatype: .boolean, value: .bool(true))])
        XCTAssertEqual(f.commands(topic: "spBv1.0/plant/NCMD/gw-7", payload: rebirth.encode()).map(\.action), [.announceAgain])
        let write = SparkplugPayload(timestamp: 1, seq: nil, metrics: [SparkplugMetric(name: "setpoint", datatype: .uint16, value: .uint(30)),
                                                                        SparkplugMetric(name: "relay", datatype: .boolean, value: .bool(true)),
                                                                        SparkplugMetric(name: "level", datatype: .double, value: .double(1))])
        let actions = f.commands(topic: "spBv1.0/plant/DCMD/gw-7/gas-1", payload: write.encode()).map(\.action)
        XCTAssertEqual(actions[0], .write(table: .holding, address: 20, values: [30]))
        XCTAssertEqual(actions[1], .write(table: .coil, address: 0, values: [1]))
        guard case .invalid = actions[2] else { return XCTFail("a scaled point is not written: \(actions[2])") }

        XCTAssertNotNil(f.holdReason, "no STATE heard from the primary host: data waits")
        XCTAssertTrue(f.commands(topic: "spBv1.0/STATE/scada-1", payload: Array(#"{"online":true,"timestamp":1}"#.utf8)).isEmpty)
        XCTAssertNil(f.holdReason)
        _ = f.commands(topic: "spBv1.0/STATE/scada-1", payload: Array(#"{"online":false,"timestamp":2}"#.utf8))
        XCTAssertNotNil(f.holdReason)
        XCTAssertNil(format().holdReason, "no primary host: never held")
    }
}

final class SavedBdSeqs: @unchecked Sendable {
    var values: [UInt64] = []
}

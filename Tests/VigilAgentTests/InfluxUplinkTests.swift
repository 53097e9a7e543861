import Foundation
import XCTest
import VigilAgent
import VigilCore
import VigilTestSupport
import VigilUplink

/// format influx over HTTP against real time-series databases from Debian:
/// InfluxDB 1.6 and VictoriaMetrics, queried back for what was written.
final class InfluxUplinkTests: XCTestCase {
    let t0 = fixtureEpochMs

    func poll(_ n: Int64, gas: Float?, seq: UInt64) -> [StoredRecord] {
        let time = WallTime(milliseconds: t0 + n * 1000, clockSynced: true)
        let gasReading = Reading(timestamp: time, device: "gas-1", point: "gas", value: gas.map { .float($0) }, raw: .none, unit: "%LEL", label: nil,
                                 quality: gas == nil ? .bad : .good, error: gas == nil ? "timeout" : nil)
        let unit = Reading(timestamp: time, device: "gas-1", point: "unit_code", value: .uint(5), raw: RawRegisters(words: [0x0005]), unit: nil, label: nil, quality: .good, error: nil)
        return [StoredRecord(seq: seq, record: .reading(gasReading)), StoredRecord(seq: seq + 1, record: .reading(unit))]
    }

    var telemetry: UplinkBatch {
        UplinkBatch(gateway: "gw-7", lane: .telemetry, firstSeq: 1, lastSeq: 6,
                    records: poll(0, gas: 2.5, seq: 1) + poll(1, gas: nil, seq: 3) + poll(2, gas: 26, seq: 5))
    }

    var alarm: UplinkBatch {
        let info = AlarmInfo(point: "gas", level: .high, severity: nil, value: 26, setpoint: 25, triggerSeq: 5)
        return UplinkBatch(gateway: "gw-7", lane: .events, firstSeq: 7, lastSeq: 7,
                           records: [StoredRecord(seq: 7, record: .event(Event(timestamp: WallTime(milliseconds: t0 + 2000, clockSynced: true),
                                                                               kind: .alarmRaised, device: "gas-1", alarm: info)))])
    }

    let status = GatewayStatus(uptimeSeconds: 1, pending: [:], oldestPendingMs: nil, dropped: [:], corruptRecords: 0, deadLetters: 0, devices: [])

    func uplink(_ url: String) throws -> HTTPUplink {
        var spec = HTTPUplinkSpec(url: url)
        spec.format = .influx
        spec.batching.timeoutMs = 5000
        return try HTTPUplink(spec: spec, gateway: "gw-7", format: InfluxLineFormat(gateway: "gw-7", profiles: ["gas-1": "honeywell-xnx"]),
                              url: InfluxLineFormat.writeURL(url))
    }

    func testInfluxDBTakesEveryPollAndAResentBatchOverwrites() throws {
        let server = try InfluxServer(in: temporaryDirectory())
        let up = try uplink("http://127.0.0.1:\(server.port)/write?db=vigil")
        XCTAssertEqual(up.send(telemetry, status: status), .delivered, "204 is the commit point")
        XCTAssertEqual(up.send(alarm, status: status), .delivered)
        var rows = try server.query("SELECT * FROM vigil")
        XCTAssertEqual(rows.count, 3, "one point per poll: \(rows)")
        XCTAssertEqual(rows.map { $0["time"] as? Int }, [Int(t0), Int(t0) + 1000, Int(t0) + 2000], "the polls' own milliseconds")
        XCTAssertEqual(rows.map { $0["gas"] as? Double }, [2.5, nil, 26])
        XCTAssertEqual(rows.map { $0["unit_code"] as? Int }, [5, 5, 5], "integers stay integers")
        XCTAssertEqual(rows[1]["bad_points"] as? Int, 1, "the bad reading is counted, not written")
        XCTAssertEqual(rows[0]["device"] as? String, "gas-1")
        XCTAssertEqual(rows[0]["profile"] as? String, "honeywell-xnx")
        XCTAssertEqual(rows[0]["gateway"] as? String, "gw-7")
        let events = try server.query("SELECT * FROM vigil_events")
        XCTAssertEqual(events.first?["event"] as? String, "alarm_raised")
        XCTAssertEqual(events.first?["level"] as? String, "high")
        XCTAssertEqual(events.first?["seq"] as? Int, 7)

        // Resent after a crash: the same points at the same times.
        XCTAssertEqual(up.send(telemetry, status: status), .delivered)
        rows = try server.query("SELECT * FROM vigil")
        XCTAssertEqual(rows.count, 3, "overwritten, not doubled")

        // A field whose type the database already knows otherwise: 400 naming the line, refused for good.
        var conflicting = telemetry
        conflicting.records = [StoredRecord(seq: 9, record: .reading(Reading(timestamp: WallTime(milliseconds: t0 + 9000, clockSynced: true), device: "gas-1",
                                                                             point: "gas", value: .string("n/a"), raw: .none, unit: nil, label: nil, quality: .good, error: nil)))]
        guard case .rejected(let reason) = up.send(conflicting, status: status) else { return XCTFail("a 400 refuses the batch") }
        XCTAssertTrue(reason.hasPrefix("HTTP 400"), reason)
        XCTAssertTrue(reason.contains("field type conflict"), reason)
    }

    func testVictoriaMetricsTakesTheSameLines() throws {
        let server = try VictoriaMetricsServer(in: temporaryDirectory())
        let up = try uplink("http://127.0.0.1:\(server.port)/write")
        XCTAssertEqual(up.send(telemetry, status: status), .delivered)
        XCTAssertEqual(up.send(telemetry, status: status), .delivered, "resent")
        let gas = try server.export(#"{__name__="vigil_gas"}"#)
        XCTAssertEqual(gas.count, 1, "\(gas)")
        XCTAssertEqual(gas.first?.labels["device"], "gas-1")
        XCTAssertEqual(gas.first?.labels["gateway"], "gw-7")
        XCTAssertEqual(gas.first?.samples.map(\.0), [Int(t0), Int(t0) + 2000], "the bad poll has no gas sample; the resend doubled nothing")
        XCTAssertEqual(gas.first?.samples.map(\.1), [2.5, 26])
        let bad = try server.export(#"{__name__="vigil_bad_points"}"#)
        XCTAssertEqual(bad.first?.samples.map(\.1), [1])
    }
}

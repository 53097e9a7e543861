import XCTest
@testable import VigilCore
import VigilTestSupport

final class InfluxLineFormatTests: XCTestCase {
    let format = InfluxLineFormat(gateway: "gw 7", profiles: ["gas-1": "honeywell-xnx"])
    let status = GatewayStatus(uptimeSeconds: 5, pending: [.events: 1], oldestPendingMs: nil, dropped: [:], corruptRecords: 0, deadLetters: 2, devices: [])

    func read(_ device: String, _ point: String, _ value: PointValue?, at ms: Int64, quality: Quality = .good) -> StoredRecord {
        StoredRecord(seq: 1, record: .reading(Reading(timestamp: WallTime(milliseconds: ms, clockSynced: true), device: device, point: point,
                                                      value: value, raw: .none, unit: nil, label: nil, quality: quality, error: nil)))
    }

    func text(_ records: [StoredRecord]) -> String {
        String(decoding: format.body(for: UplinkBatch(gateway: "gw 7", lane: .telemetry, firstSeq: 1, lastSeq: 9, records: records),
                                     sentAt: WallTime(milliseconds: 0, clockSynced: true), status: status), as: UTF8.self)
    }

    func testOneLinePerPollWithTypedFields() {
        let lines = text([read("gas-1", "gas", .float(2.45), at: 1000), read("gas-1", "unit_code", .uint(5), at: 1000),
                          read("gas-1", "alarm1", .bool(false), at: 1000), read("gas-1", "state", .string(#"say "hi""#), at: 1000),
                          read("gas-1", "offset", .int(-3), at: 1000),
                          read("gas-1", "gas", .float(2.5), at: 2000), read("level-1", "level", .double(1.25), at: 2000)])
        XCTAssertEqual(lines, """
            vigil,gateway=gw\\ 7,device=gas-1,profile=honeywell-xnx gas=2.45,unit_code=5i,alarm1=false,state="say \\"hi\\"",offset=-3i 1000
            vigil,gateway=gw\\ 7,device=gas-1,profile=honeywell-xnx gas=2.5 2000
            vigil,gateway=gw\\ 7,device=level-1 level=1.25 2000

            """)
    }

    func testBadReadingsLeaveTheirFieldOutAndAreCounted() {
        XCTAssertEqual(text([read("gas-1", "gas", nil, at: 1000, quality: .bad), read("gas-1", "unit_code", .uint(5), at: 1000, quality: .stale),
                             read("gas-1", "ratio", .double(.nan), at: 1000)]),
                       "vigil,gateway=gw\\ 7,device=gas-1,profile=honeywell-xnx unit_code=5i,bad_points=2i,stale_points=1i 1000\n")
        XCTAssertEqual(text([read("gas-1", "gas", nil, at: 1000, quality: .bad)]),
                       "vigil,gateway=gw\\ 7,device=gas-1,profile=honeywell-xnx bad_points=1i 1000\n", "a line always has a field")
    }

    func testEventsAreTheirOwnMeasurementWithPointAndLevelAsTags() {
        let info = AlarmInfo(point: "gas", level: .highhigh, severity: "critical", value: 61, setpoint: 50, triggerSeq: 3)
        let records = [StoredRecord(seq: 12, record: .event(Event(timestamp: WallTime(milliseconds: 3000, clockSynced: false), kind: .alarmRaised, device: "gas-1", alarm: info))),
                       StoredRecord(seq: 13, record: .event(Event(timestamp: WallTime(milliseconds: 3001, clockSynced: true), kind: .busFailed, bus: "rs485", detail: "no, answer")))]
        XCTAssertEqual(text(records), """
            vigil_events,gateway=gw\\ 7,device=gas-1,event=alarm_raised,point=gas,level=highhigh seq=12i,value=61.0,setpoint=50.0,severity="critical",clock_synced=false 3000
            vigil_events,gateway=gw\\ 7,event=bus_failed seq=13i,bus="rs485",detail="no, answer" 3001

            """)
    }

    func testHeartbeatAndTheWriteURL() {
        XCTAssertEqual(String(decoding: format.heartbeat(status, gateway: "gw 7", sentAt: WallTime(milliseconds: 9, clockSynced: true))!, as: UTF8.self),
                       "vigil_gateway,gateway=gw\\ 7 uptime_s=5i,queue_events=1i,queue_telemetry=0i,dropped_events=0i,dropped_telemetry=0i,corrupt_records=0i,dead_letters=2i,active_alarms=0i 9\n")
        XCTAssertEqual(InfluxLineFormat.writeURL("http://db:8086/write?db=vigil"), "http://db:8086/write?db=vigil&precision=ms")
        XCTAssertEqual(InfluxLineFormat.writeURL("http://vm:8428/write"), "http://vm:8428/write?precision=ms")
        XCTAssertEqual(InfluxLineFormat.writeURL("http://db/api/v2/write?org=o&bucket=b&precision=ms"), "http://db/api/v2/write?org=o&bucket=b&precision=ms")
    }
}

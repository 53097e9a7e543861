import XCTest
@testable import VigilCore
import VigilTestSupport

final class HJ212FormatTests: XCTestCase {
    // 2026-11-28T21:06:40Z, which is 2026-11-29 05:06:40 in Beijing.
    let t0 = fixtureEpochMs
    let format = HJ212Format(systemCode: "31", stations: [
        "gas-1": .init(mn: "MN0001", codes: ["gas": "a21026", "unit_code": "x01"]),
        "gas-2": .init(mn: "MN0002", codes: ["gas": "a21026"]),
    ], utcOffsetMinutes: 480, alarmEvents: true)

    func reading(_ device: String, _ point: String, _ value: PointValue?, at ms: Int64, quality: Quality = .good, mode: String? = nil) -> Reading {
        var r = Reading(timestamp: WallTime(milliseconds: ms, clockSynced: true), device: device, point: point, value: value, raw: .none,
                        unit: nil, label: nil, quality: quality, error: nil)
        r.mode = mode
        return r
    }

    func batch(_ records: [Record], lane: JournalLane = .telemetry) -> UplinkBatch {
        let stored = records.enumerated().map { StoredRecord(seq: UInt64($0.offset + 1), record: $0.element) }
        return UplinkBatch(gateway: "gw", lane: lane, firstSeq: 1, lastSeq: UInt64(records.count), records: stored)
    }

    func segments(_ packets: [HJ212Format.Packet]) throws -> [String] {
        try packets.map { p in
            var reader = HJ212FrameReader()
            reader.append(p.bytes)
            return String(decoding: try XCTUnwrap(reader.next(), "a whole packet with a good CRC"), as: UTF8.self)
        }
    }

    func testEachDevicePollIsOneRealTimePacketInBeijingTime() throws {
        var numbers = HJ212RequestNumbers(), statistics = format.newStatistics()
        let packets = format.packets(for: batch([
            .reading(reading("gas-1", "gas", .float(2.45), at: t0)),
            .reading(reading("gas-1", "unit_code", .uint(5), at: t0)),
            .reading(reading("gas-1", "serial", .string("A1"), at: t0)), // no code: not sent
            .reading(reading("gas-2", "gas", nil, at: t0 + 7, quality: .bad)),
            .reading(reading("gas-1", "gas", .float(2.5), at: t0 + 1000, quality: .stale)),
        ]), password: "123456", requestNumbers: &numbers, statistics: &statistics, nowMs: t0 + 5000)
        XCTAssertEqual(try segments(packets), [
            "QN=20261129050645000;ST=31;CN=2011;PW=123456;MN=MN0001;Flag=5;CP=&&DataTime=20261129050640;a21026-Rtd=2.45,a21026-Flag=N;x01-Rtd=5,x01-Flag=N&&",
            "QN=20261129050645001;ST=31;CN=2011;PW=123456;MN=MN0002;Flag=5;CP=&&DataTime=20261129050640;a21026-Flag=D&&",
            "QN=20261129050645002;ST=31;CN=2011;PW=123456;MN=MN0001;Flag=5;CP=&&DataTime=20261129050641;a21026-Rtd=2.5,a21026-Flag=B&&",
        ])
        XCTAssertEqual(packets.map(\.qn), ["20261129050645000", "20261129050645001", "20261129050645002"], "a QN each, for matching answers")
    }

    func testFlagsForModesAndPlainDecimals() throws {
        var numbers = HJ212RequestNumbers(), statistics = format.newStatistics()
        let packets = format.packets(for: batch([
            .reading(reading("gas-1", "gas", .double(0.00001), at: t0, mode: "calibration")),
            .reading(reading("gas-1", "unit_code", .bool(true), at: t0, mode: "inhibit")),
        ]), password: "1", requestNumbers: &numbers, statistics: &statistics, nowMs: t0)
        let cp = try XCTUnwrap(try segments(packets).first?.split(separator: "&&").dropFirst().first)
        XCTAssertEqual(cp, "DataTime=20261129050640;a21026-Rtd=0.00001,a21026-Flag=C;x01-Rtd=1,x01-Flag=M", "no exponent; C calibration, M not measuring")
    }

    func testAlarmsGoAsAlarmEventsAndOtherEventsAreNotCarried() throws {
        let raised = Event(timestamp: WallTime(milliseconds: t0, clockSynced: true), kind: .alarmRaised, device: "gas-2",
                           alarm: AlarmInfo(point: "gas", level: .high, severity: nil, value: 26, setpoint: 25, triggerSeq: 3))
        var cleared = raised
        cleared.kind = .alarmCleared
        let offline = Event(timestamp: WallTime(milliseconds: t0, clockSynced: true), kind: .deviceOffline, device: "gas-2")
        var numbers = HJ212RequestNumbers(), statistics = format.newStatistics()
        let packets = format.packets(for: batch([.event(raised), .event(offline), .event(cleared)], lane: .events),
                                     password: "1", requestNumbers: &numbers, statistics: &statistics, nowMs: t0)
        XCTAssertEqual(try segments(packets).map { $0.split(separator: ";", maxSplits: 1)[1] }, [
            "ST=31;CN=2072;PW=1;MN=MN0002;Flag=5;CP=&&AlarmTime=20261129050640;a21026-Ala=26.0,AlarmType=1&&",
            "ST=31;CN=2072;PW=1;MN=MN0002;Flag=5;CP=&&AlarmTime=20261129050640;a21026-Ala=26.0,AlarmType=0&&",
        ])
        let quiet = HJ212Format(systemCode: "31", stations: ["gas-2": .init(mn: "M", codes: ["gas": "a21026"])], utcOffsetMinutes: 480, alarmEvents: false)
        XCTAssertTrue(quiet.packets(for: batch([.event(raised)], lane: .events), password: "1", requestNumbers: &numbers, statistics: &statistics, nowMs: t0).isEmpty)
    }

    func testAPollLongerThanOnePacketIsSplitWithItsDataTimeInEach() throws {
        let codes = Dictionary(uniqueKeysWithValues: (0..<120).map { ("p\($0)", "a\(10000 + $0)") })
        let wide = HJ212Format(systemCode: "22", stations: ["d": .init(mn: "M", codes: codes)], utcOffsetMinutes: 0, alarmEvents: true)
        let readings = (0..<120).map { Record.reading(reading("d", "p\($0)", .double(Double($0) + 0.25), at: t0)) }
        var numbers = HJ212RequestNumbers(), statistics = format.newStatistics()
        let texts = try segments(wide.packets(for: batch(readings), password: "1", requestNumbers: &numbers, statistics: &statistics, nowMs: t0))
        XCTAssertGreaterThan(texts.count, 1)
        for text in texts {
            XCTAssertLessThanOrEqual(text.utf8.count, HJ212Frame.maxDataBytes)
            XCTAssertTrue(text.contains("CP=&&DataTime=20261128210640;"), text)
        }
        let sent = texts.flatMap { $0.split(separator: ";").filter { $0.contains("-Rtd=") } }
        XCTAssertEqual(sent.count, 120, "every point once")
        XCTAssertEqual(Set(texts.map { $0.prefix(20) }).count, texts.count, "each packet its own QN")
    }

    func testRequestNumbersNeverRepeat() {
        var numbers = HJ212RequestNumbers()
        XCTAssertEqual([numbers.next(atMs: 100), numbers.next(atMs: 100), numbers.next(atMs: 50), numbers.next(atMs: 500)], [100, 101, 102, 500])
    }

    /// Minute and hour data: min, average and max of the good readings of each interval of the
    /// platform's clock, sent with the first poll after it; the interval the uplink did not see begin is not sent.
    func testMinuteAndHourDataAreTheFiguresOfEachIntervalSeenWhole() throws {
        let statisticsFormat = HJ212Format(systemCode: "31", stations: ["gas-1": .init(mn: "MN0001", codes: ["gas": "a21026", "unit_code": "x01"])],
                                           utcOffsetMinutes: 480, alarmEvents: true, intervals: [.minutes(1), .hour])
        var numbers = HJ212RequestNumbers(), statistics = statisticsFormat.newStatistics()
        // t0 is 05:06:40 in Beijing.
        func poll(_ s: Int64, gas: PointValue?, quality: Quality = .good, mode: String? = nil) -> [Record] {
            [.reading(reading("gas-1", "gas", gas, at: t0 + s * 1000, quality: quality, mode: mode)),
             .reading(reading("gas-1", "unit_code", .uint(5), at: t0 + s * 1000))]
        }
        func send(_ polls: [[Record]]) throws -> [String] {
            try segments(statisticsFormat.packets(for: batch(polls.flatMap { $0 }), password: "1", requestNumbers: &numbers,
                                                  statistics: &statistics, nowMs: t0))
                .filter { !$0.contains(";CN=2011;") }
                .map { String($0.split(separator: ";CN=", maxSplits: 1)[1]) }
        }
        XCTAssertEqual(try send([poll(0, gas: .float(9)), poll(10, gas: .float(9))]), [], "05:06 goes on")
        XCTAssertEqual(try send([poll(20, gas: .float(2)), poll(40, gas: .float(4)), poll(50, gas: nil, quality: .bad),
                                 poll(55, gas: .float(30), mode: "calibration")]), [],
                       "05:07 goes on; 05:06 closes, but began before the uplink saw it")
        XCTAssertEqual(try send([poll(80, gas: .float(3))]), [
            "2051;PW=1;MN=MN0001;Flag=5;CP=&&DataTime=20261129050700;a21026-Min=2.0,a21026-Avg=2.666667,a21026-Max=4.0,a21026-Flag=N;"
                + "x01-Min=5.0,x01-Avg=5.0,x01-Max=5.0,x01-Flag=N&&",
        ], "05:07 closes: 2.0 held 20 s, 4.0 held 10 s until the failed reading; the one in calibration is not counted")
        XCTAssertEqual(try send([poll(3205, gas: nil, quality: .bad)]), [
            "2051;PW=1;MN=MN0001;Flag=5;CP=&&DataTime=20261129050800;a21026-Min=3.0,a21026-Avg=3.0,a21026-Max=3.0,a21026-Flag=N;"
                + "x01-Min=5.0,x01-Avg=5.0,x01-Max=5.0,x01-Flag=N&&",
        ], "06:00:05: 05:08 closes; the hour 05 began before the uplink saw it")
        XCTAssertEqual(try send([poll(3215, gas: .float(1)), poll(6800, gas: .float(7))]), [
            "2051;PW=1;MN=MN0001;Flag=5;CP=&&DataTime=20261129060000;a21026-Min=1.0,a21026-Avg=1.2,a21026-Max=3.0,a21026-Flag=N;"
                + "x01-Min=5.0,x01-Avg=5.0,x01-Max=5.0,x01-Flag=N&&",
            "2061;PW=1;MN=MN0001;Flag=5;CP=&&DataTime=20261129060000;a21026-Min=1.0,a21026-Avg=1.002786,a21026-Max=3.0,a21026-Flag=N;"
                + "x01-Min=5.0,x01-Avg=5.0,x01-Max=5.0,x01-Flag=N&&",
        ], "07:00:00: the minute 06:00 and the hour 06 close; 3.0 held (nothing reported) until the failed reading at 06:00:05")
        XCTAssertEqual(try send([poll(6860, gas: nil, quality: .bad), poll(6920, gas: .float(1))]), [
            "2051;PW=1;MN=MN0001;Flag=5;CP=&&DataTime=20261129070000;a21026-Min=7.0,a21026-Avg=7.0,a21026-Max=7.0,a21026-Flag=N;"
                + "x01-Min=5.0,x01-Avg=5.0,x01-Max=5.0,x01-Flag=N&&",
            "2051;PW=1;MN=MN0001;Flag=5;CP=&&DataTime=20261129070100;a21026-Flag=D;x01-Min=5.0,x01-Avg=5.0,x01-Max=5.0,x01-Flag=N&&",
        ], "07:01 had no good gas reading: its flag alone")
    }
}

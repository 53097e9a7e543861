import XCTest
@testable import VigilCore

final class StatusScheduleTests: XCTestCase {
    private func status(uptime: Int64 = 10, telemetryPending: UInt64 = 3, dropped: UInt64 = 0, gas: String = "online",
                        alarms: [StatusAlarm] = [], journalError: String? = nil) -> GatewayStatus {
        GatewayStatus(uptimeSeconds: uptime, pending: [.telemetry: telemetryPending], oldestPendingMs: nil, dropped: [.telemetry: dropped],
                      corruptRecords: 0, deadLetters: 0, devices: [(id: "gas-1", state: gas)], alarms: alarms, journalError: journalError)
    }

    private let gasHigh = StatusAlarm(device: "gas-1", point: "gas", level: .high)

    private let second: Int64 = 1_000_000_000

    func testTheFirstBatchCarriesTheStatus() {
        XCTAssertTrue(StatusSchedule(everySeconds: 60).isDue(status(), nowNanos: 0))
    }

    func testUptimeAndQueueLengthsWaitForTheNextPeriodicStatus() {
        var schedule = StatusSchedule(everySeconds: 60)
        schedule.sent(status(), nowNanos: 0)
        XCTAssertFalse(schedule.isDue(status(uptime: 40, telemetryPending: 14), nowNanos: 30 * second))
        XCTAssertTrue(schedule.isDue(status(uptime: 70, telemetryPending: 14), nowNanos: 60 * second), "at least every heartbeat_s")
    }

    func testNewsGoesWithTheNextBatch() {
        var schedule = StatusSchedule(everySeconds: 60)
        schedule.sent(status(), nowNanos: 0)
        XCTAssertTrue(schedule.isDue(status(gas: "offline"), nowNanos: second), "a device went offline")
        XCTAssertTrue(schedule.isDue(status(dropped: 1), nowNanos: second), "the journal dropped telemetry")
        schedule.sent(status(gas: "offline"), nowNanos: second)
        XCTAssertFalse(schedule.isDue(status(gas: "offline"), nowNanos: 2 * second))
    }

    func testAlarmsAndTheJournalsHealthAreNews() {
        var schedule = StatusSchedule(everySeconds: 60)
        schedule.sent(status(), nowNanos: 0)
        XCTAssertTrue(schedule.isDue(status(alarms: [gasHigh]), nowNanos: second), "an alarm was raised")
        XCTAssertTrue(schedule.isDue(status(journalError: "write: Read-only file system"), nowNanos: second), "the journal cannot write")
        schedule.sent(status(alarms: [gasHigh], journalError: "write: No space left on device"), nowNanos: second)
        XCTAssertFalse(schedule.isDue(status(alarms: [gasHigh], journalError: "cursor: No space left on device"), nowNanos: 2 * second),
                       "another message for the same trouble is not news")
        XCTAssertTrue(schedule.isDue(status(alarms: [gasHigh]), nowNanos: 2 * second), "the journal writes again")
        XCTAssertTrue(schedule.isDue(status(journalError: "x"), nowNanos: 2 * second), "the alarm cleared")
    }

    /// A heartbeat goes at once for changed alarms when no batch carries them (the forwarder asks this).
    func testChangedAlarmsAskForAHeartbeatAtOnce() {
        var schedule = StatusSchedule(everySeconds: 60)
        XCTAssertFalse(schedule.alarmsChanged([]), "nothing to tell before anything was sent")
        XCTAssertTrue(schedule.alarmsChanged([gasHigh]), "an alarm active before any status went")
        schedule.sent(status(alarms: [gasHigh]), nowNanos: 0)
        XCTAssertFalse(schedule.alarmsChanged([gasHigh]))
        XCTAssertTrue(schedule.alarmsChanged([]), "it cleared")
        XCTAssertTrue(schedule.alarmsChanged([gasHigh, StatusAlarm(device: "gas-1", point: "gas", level: .highhigh)]))
    }

    func testTheStatusNamesTheActiveAlarmsAndTheJournalsError() {
        var json: [UInt8] = []
        status(alarms: [gasHigh, StatusAlarm(device: "pump \"A\"", point: "float", level: .highhigh)], journalError: "write: Read-only file system")
            .appendJSON(to: &json)
        let text = String(decoding: json, as: UTF8.self)
        XCTAssertTrue(text.contains(#","alarms":[{"device":"gas-1","point":"gas","level":"high"},{"device":"pump \"A\"","point":"float","level":"highhigh"}],"journal_error":"write: Read-only file system","devices":"#), text)
        json = []
        status().appendJSON(to: &json)
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains(#","alarms":[],"journal_error":null,"#))
    }

    func testWithoutHeartbeatsEveryBatchCarriesIt() {
        var schedule = StatusSchedule(everySeconds: nil)
        schedule.sent(status(), nowNanos: 0)
        XCTAssertTrue(schedule.isDue(status(), nowNanos: 1))
    }
}

import XCTest
@testable import VigilCore

final class StatusScheduleTests: XCTestCase {
    private func status(uptime: Int64 = 10, telemetryPending: UInt64 = 3, dropped: UInt64 = 0, gas: String = "online") -> GatewayStatus {
        GatewayStatus(uptimeSeconds: uptime, pending: [.telemetry: telemetryPending], oldestPendingMs: nil, dropped: [.telemetry: dropped],
                      corruptRecords: 0, deadLetters: 0, devices: [(id: "gas-1", state: gas)])
    }

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

    func testWithoutHeartbeatsEveryBatchCarriesIt() {
        var schedule = StatusSchedule(everySeconds: nil)
        schedule.sent(status(), nowNanos: 0)
        XCTAssertTrue(schedule.isDue(status(), nowNanos: 1))
    }
}

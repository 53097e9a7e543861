import XCTest
@testable import VigilCore

final class SchedulingTests: XCTestCase {
    func testFixedRateDoesNotDrift() {
        var s = FixedRateSchedule(intervalNanos: 1000, firstDue: 0)
        for k in 1...100 {
            s.advance(now: Int64(k - 1) * 1000 + 300) // each poll takes 300 ns
            XCTAssertEqual(s.nextDue, Int64(k) * 1000)
        }
        XCTAssertEqual(s.overruns, 0)
    }

    func testOverrunSkipsMissedSlotsAndCountsThem() {
        var s = FixedRateSchedule(intervalNanos: 1000, firstDue: 0)
        s.advance(now: 3500) // the poll due at 0 ran until 3500: slots 1000, 2000, 3000 are gone
        XCTAssertEqual(s.nextDue, 4000)
        XCTAssertEqual(s.overruns, 3)
    }

    func testPostponingMovesToALaterSlotWithoutCountingOverruns() {
        var s = FixedRateSchedule(intervalNanos: 100, firstDue: 1000)
        s.postpone(until: 1250)
        XCTAssertEqual(s.nextDue, 1300, "the first slot at or after 1250")
        XCTAssertEqual(s.overruns, 0)
        s.postpone(until: 1200)
        XCTAssertEqual(s.nextDue, 1300, "never earlier")
        s.advance(now: 1310)
        XCTAssertEqual(s.nextDue, 1400)
    }

    func testBackoffDoublesUpToItsCap() {
        var b = Backoff(initialMs: 250, capMs: 1000)
        XCTAssertEqual((0..<5).map { _ in b.next() / 1_000_000 }, [250, 500, 1000, 1000, 1000])
        b.reset()
        XCTAssertEqual(b.next() / 1_000_000, 250)
    }

    func testDeviceGoesOfflineAfterConsecutiveSilenceAndBackOnline() {
        var h = DeviceHealth(offlineAfter: 3)
        XCTAssertEqual(h.recordAnswer(), .cameOnline)
        XCTAssertNil(h.recordSilence(reason: "timeout"))
        XCTAssertNil(h.recordSilence(reason: "timeout"))
        XCTAssertEqual(h.recordSilence(reason: "timeout"), .wentOffline(reason: "timeout"))
        XCTAssertNil(h.recordSilence(reason: "timeout"))
        XCTAssertEqual(h.recordAnswer(), .cameOnline)
        XCTAssertNil(h.recordSilence(reason: "timeout"))
        XCTAssertNil(h.recordAnswer())
        XCTAssertEqual(h.consecutiveFailures, 0)
    }
}

final class SupervisorTests: XCTestCase {
    let s: Int64 = 1_000_000_000

    func testAPartThatChecksInStaysHealthy() {
        var sup = Supervisor(graceNanos: 10 * s)
        sup.register(.bus("a"), deadlineNanos: 5 * s, now: 0)
        for t in stride(from: Int64(0), through: 60, by: 4) {
            sup.checkIn(.bus("a"), now: t * s)
            XCTAssertEqual(sup.evaluate(now: t * s + s).verdict, .healthy)
        }
    }

    func testAStuckPartDegradesThenFailsAfterGraceAndRecovers() {
        var sup = Supervisor(graceNanos: 10 * s)
        sup.register(.bus("a"), deadlineNanos: 5 * s, now: 0)
        sup.register(.forwarder, deadlineNanos: 30 * s, now: 0)
        XCTAssertEqual(sup.evaluate(now: 5 * s).verdict, .healthy, "at the deadline, not past it")
        let first = sup.evaluate(now: 6 * s)
        XCTAssertEqual(first.verdict, .degraded(stuck: [.bus("a")]))
        XCTAssertEqual(first.newlyStuck, [.bus("a")], "reported once, to be restarted")
        XCTAssertEqual(sup.evaluate(now: 12 * s).newlyStuck, [])
        XCTAssertTrue(sup.evaluate(now: 16 * s).verdict.feedWatchdog, "within grace the watchdog is still fed")
        XCTAssertEqual(sup.evaluate(now: 16 * s + 1).verdict, .failed(stuck: [.bus("a")]))
        XCTAssertFalse(sup.evaluate(now: 17 * s).verdict.feedWatchdog)
        sup.checkIn(.bus("a"), now: 18 * s)
        sup.checkIn(.forwarder, now: 18 * s)
        XCTAssertEqual(sup.evaluate(now: 19 * s).verdict, .healthy, "a part that comes back is healthy again")
    }
}

final class WorkerDeadlineTests: XCTestCase {
    /// A worker is stuck only past what its slowest poll may take: no false alarm on a slow line.
    func testTheSlowestPollEveryBlockRetriedToItsTimeoutPlusOpeningAndSlack() {
        let near = PointSpec(id: "a", table: .holding, address: 0, type: .uint16)
        let far = PointSpec(id: "b", table: .holding, address: 1000, type: .uint16)
        let coil = PointSpec(id: "c", table: .coil, address: 0, type: .bool)
        let bus = BusSpec(id: "b", transport: .rtu(SerialSettings(device: "/dev/ttyS0", baud: 9600, gapMs: 10)), timeoutMs: 500, retries: 2)
        let oneBlock = DeviceSpec(id: "d1", bus: "b", unit: 1, points: [near])
        let threeBlocks = DeviceSpec(id: "d2", bus: "b", unit: 2, points: [near, far, coil])
        // 3 blocks × 3 tries × (500 + 10) ms = 4.59 s, + 0.5 s to open, + 1 s sleep, + 5 s slack.
        XCTAssertEqual(bus.workerDeadlineSeconds(polling: [oneBlock, threeBlocks]), 4.59 + 0.5 + 1 + 5, accuracy: 1e-9)
        XCTAssertEqual(bus.workerDeadlineSeconds(polling: []), 0.5 + 1 + 5, accuracy: 1e-9)
    }
}

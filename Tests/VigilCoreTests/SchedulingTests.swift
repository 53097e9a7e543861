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

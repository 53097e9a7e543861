import XCTest
import VigilCore
import VigilTestSupport

/// Report by exception, decided on a clock the test turns (milliseconds, monotonic).
final class ReportFilterTests: XCTestCase {
    func reading(_ value: PointValue?, device: String = "level-1", point: String = "level", quality: Quality = .good, error: String? = nil) -> Reading {
        Reading(timestamp: WallTime(milliseconds: fixtureEpochMs, clockSynced: true), device: device, point: point, value: value,
                raw: .none, unit: nil, label: nil, quality: quality, error: error)
    }

    func filter(_ policy: ReportPolicy?) -> ReportFilter {
        var policies = ReportPolicies()
        policies.fallback = policy
        return ReportFilter(policies)
    }

    func testWithoutAPolicyEveryPollIsReported() {
        var f = filter(nil)
        XCTAssertTrue((0..<5).allSatisfy { f.admit(reading(.double(1)), nowMs: Int64($0)) })
    }

    func testAnAbsoluteDeadband() {
        var f = filter(ReportPolicy(deadband: .absolute(0.5), everySeconds: 300))
        XCTAssertTrue(f.admit(reading(.double(2.00)), nowMs: 0), "the first reading goes")
        XCTAssertFalse(f.admit(reading(.double(2.00)), nowMs: 1000), "unchanged")
        XCTAssertFalse(f.admit(reading(.double(2.30)), nowMs: 2000), "within the deadband")
        XCTAssertFalse(f.admit(reading(.double(2.50)), nowMs: 3000), "exactly the deadband is not beyond it")
        XCTAssertTrue(f.admit(reading(.double(2.51)), nowMs: 4000), "measured from the last reported 2.00, not the last polled")
        XCTAssertFalse(f.admit(reading(.double(2.10)), nowMs: 5000), "0.41 from 2.51")
        XCTAssertTrue(f.admit(reading(.double(1.90)), nowMs: 6000), "downwards too")
        XCTAssertTrue(f.admit(reading(.float(5)), nowMs: 7000), "a float32 as a number")
    }

    func testAPercentDeadbandIsOfTheLastReportedValue() {
        var f = filter(ReportPolicy(deadband: .percent(1), everySeconds: 300))
        XCTAssertTrue(f.admit(reading(.double(200)), nowMs: 0))
        XCTAssertFalse(f.admit(reading(.double(201.9)), nowMs: 1))
        XCTAssertTrue(f.admit(reading(.double(202.1)), nowMs: 2))
        XCTAssertFalse(f.admit(reading(.uint(204)), nowMs: 3), "1 % of 202.1 is 2.021")
    }

    func testAnIntegrityReportEveryInterval() {
        var f = filter(ReportPolicy(deadband: .absolute(10), everySeconds: 300))
        XCTAssertTrue(f.admit(reading(.double(1)), nowMs: 0))
        XCTAssertFalse(f.admit(reading(.double(1)), nowMs: 299_999))
        XCTAssertTrue(f.admit(reading(.double(1)), nowMs: 300_000), "every_s: the platform hears the point is alive")
        XCTAssertFalse(f.admit(reading(.double(1)), nowMs: 300_001), "and the interval starts again")
        XCTAssertTrue(f.admit(reading(.double(1)), nowMs: 600_001))
    }

    func testQualityAndErrorChangesAlwaysGo() {
        var f = filter(ReportPolicy(deadband: .absolute(10), everySeconds: 300))
        XCTAssertTrue(f.admit(reading(.double(1)), nowMs: 0))
        XCTAssertTrue(f.admit(reading(nil, quality: .bad, error: "timeout"), nowMs: 1))
        XCTAssertFalse(f.admit(reading(nil, quality: .bad, error: "timeout"), nowMs: 2), "still the same failure")
        XCTAssertTrue(f.admit(reading(nil, quality: .bad, error: "bad CRC"), nowMs: 3), "a new reason")
        XCTAssertTrue(f.admit(reading(.double(1), quality: .good), nowMs: 4), "good again, even at the old value")
        XCTAssertTrue(f.admit(reading(.double(1), quality: .stale), nowMs: 5))
    }

    func testAReadingThatMovedAnAlarmAndADeviceBackOnlineAlwaysGo() {
        var f = filter(ReportPolicy(deadband: .absolute(10), everySeconds: 300))
        XCTAssertTrue(f.admit(reading(.double(24)), nowMs: 0))
        XCTAssertFalse(f.admit(reading(.double(25.5)), nowMs: 1))
        XCTAssertTrue(f.admit(reading(.double(25.5)), nowMs: 2, forced: true), "it raised an alarm: the platform sees the value that did")
        XCTAssertFalse(f.admit(reading(.double(25.5)), nowMs: 3))
        f.forget(device: "level-1")
        XCTAssertTrue(f.admit(reading(.double(25.5)), nowMs: 4), "first reading after the device came back")
    }

    func testOnlyIntegrityReportsWhenOnChangeIsOff() {
        var f = filter(ReportPolicy(onChange: false, everySeconds: 60))
        XCTAssertTrue(f.admit(reading(.double(1)), nowMs: 0))
        XCTAssertFalse(f.admit(reading(.double(100)), nowMs: 1000))
        XCTAssertTrue(f.admit(reading(.double(100)), nowMs: 60_000))
    }

    func testBoolsTextAndLabelsOnAnyChange() {
        var f = filter(ReportPolicy(deadband: .absolute(5), everySeconds: 300))
        XCTAssertTrue(f.admit(reading(.bool(false), point: "fault"), nowMs: 0))
        XCTAssertTrue(f.admit(reading(.bool(true), point: "fault"), nowMs: 1), "a bool is not a number within a deadband")
        XCTAssertTrue(f.admit(reading(.string("ok"), point: "status"), nowMs: 2))
        XCTAssertFalse(f.admit(reading(.string("ok"), point: "status"), nowMs: 3))
        XCTAssertTrue(f.admit(reading(.string("fault"), point: "status"), nowMs: 4))
    }

    func testEachPointHasItsOwnMemory() {
        var f = filter(ReportPolicy(deadband: .absolute(1), everySeconds: 300))
        XCTAssertTrue(f.admit(reading(.double(1), point: "a"), nowMs: 0))
        XCTAssertTrue(f.admit(reading(.double(1), point: "b"), nowMs: 0))
        XCTAssertTrue(f.admit(reading(.double(1), device: "other", point: "a"), nowMs: 0))
        XCTAssertFalse(f.admit(reading(.double(1), point: "a"), nowMs: 1))
    }

    /// A point's own policy, else its device's, else the uplink's, else every poll.
    func testTheNearestPolicyWins() throws {
        let loader = ConfigLoader(profiles: ProfileLibrary(directories: [Repo.path("Profiles")]), environment: .system(machineIDFile: "/nonexistent"))
        let config = try loader.parse("""
            { gateway: { id: 'gw' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }],
              devices: [
                { id: 'well', bus: 'b', unit: 1, report: { deadband: 0.05, every_s: 600 },
                  points: [{ id: 'level', register: 40001 }, { id: 'temp', register: 40002, report: { deadband_pct: 2 } }] },
                { id: 'gas-1', bus: 'b', unit: 2, profile: 'honeywell-xnx' },
              ],
              uplink: { kind: 'stdout', report: { on_change: false, every_s: 60 } } }
            """, file: "vigil.json5").get()
        let policies = ReportPolicies(config)
        XCTAssertEqual(policies.policy(device: "well", point: "level"), ReportPolicy(deadband: .absolute(0.05), everySeconds: 600))
        XCTAssertEqual(policies.policy(device: "well", point: "temp"), ReportPolicy(deadband: .percent(2), everySeconds: 300))
        XCTAssertEqual(policies.policy(device: "gas-1", point: "gas"), ReportPolicy(onChange: false, everySeconds: 60))
        XCTAssertTrue(ReportPolicies(try loader.parse("{ gateway: { id: 'gw' }, buses: [], devices: [] }", file: "x").get()).isEveryPoll)
    }

    func testReportMistakesAreNamed() {
        let loader = ConfigLoader(profiles: ProfileLibrary(directories: [Repo.path("Profiles")]), environment: .system(machineIDFile: "/nonexistent"))
        guard case .failure(let e) = loader.parse("""
            { gateway: { id: 'gw' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }],
              devices: [{ id: 'd', bus: 'b', unit: 1, report: { deadband: 1, deadband_pct: 2 }, points: [{ id: 'p', register: 40001, report: { every_s: 0 } }] }],
              uplink: { kind: 'stdout', report: { on_chnage: true } } }
            """, file: "vigil.json5") else { return XCTFail("accepted") }
        let text = e.description
        XCTAssertTrue(text.contains("devices[0].report.deadband_pct: give either deadband (in the point's unit) or deadband_pct, not both"), text)
        XCTAssertTrue(text.contains("devices[0].points[0].report.every_s: 0 is outside 1…86400"), text)
        XCTAssertTrue(text.contains("uplink.report.on_chnage: unknown key; did you mean \"on_change\"?"), text)
    }
}

import XCTest
@testable import VigilCore

final class ActionPlannerTests: XCTestCase {
    func alarm(_ device: String, _ point: String, _ level: AlarmLevel) -> AlarmRule {
        AlarmRule(device: device, point: point, level: level, setpoint: 0, deadband: 0, onDelayMs: 0, offDelayMs: 0, latch: false, severity: nil)
    }

    func testGasHighHighClosesTheValveAndSoundsTheSirenAndFloodStartsThePump() {
        var planner = ActionPlanner(rules: [
            ActionRule(device: "gas-1", level: .highhigh, output: "valve", value: true, latch: true),
            ActionRule(device: "gas-1", level: .highhigh, output: "siren"),
            ActionRule(device: "gas-1", level: .high, output: "strobe"),
            ActionRule(device: "flood-1", point: "wet", output: "pump"),
        ], safeStates: ["valve": false, "siren": false, "strobe": false, "pump": false])
        XCTAssertEqual(planner.plan(active: []), ["valve": false, "siren": false, "strobe": false, "pump": false])
        XCTAssertEqual(planner.plan(active: [alarm("gas-1", "gas", .high)]), ["valve": false, "siren": false, "strobe": true, "pump": false])
        XCTAssertEqual(planner.plan(active: [alarm("gas-1", "gas", .high), alarm("gas-1", "gas", .highhigh)]),
                       ["valve": true, "siren": true, "strobe": true, "pump": false])
        // The gas clears: the siren and strobe stop, the latched valve stays closed until reset.
        XCTAssertEqual(planner.plan(active: []), ["valve": true, "siren": false, "strobe": false, "pump": false])
        planner.resetLatch("valve")
        XCTAssertEqual(planner.plan(active: [])["valve"], false)
        XCTAssertEqual(planner.plan(active: [alarm("flood-1", "wet", .high)])["pump"], true)
        XCTAssertEqual(planner.plan(active: [alarm("flood-1", "other", .high)])["pump"], false, "only the named point")
    }

    func testAnOverrideWinsUntilHandedBack() {
        var planner = ActionPlanner(rules: [ActionRule(device: "gas-1", output: "siren")], safeStates: ["siren": false])
        planner.override("siren", false)
        XCTAssertEqual(planner.plan(active: [alarm("gas-1", "gas", .high)])["siren"], false, "a technician silences it")
        planner.override("siren", nil)
        XCTAssertEqual(planner.plan(active: [alarm("gas-1", "gas", .high)])["siren"], true)
        planner.override("siren", true)
        XCTAssertEqual(planner.plan(active: [])["siren"], true, "a siren test")
    }
}

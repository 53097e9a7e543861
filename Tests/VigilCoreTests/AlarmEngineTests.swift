import XCTest
@testable import VigilCore

/// The alarm engine, table-driven: each case feeds values at times and lists
/// the events expected, as "raised@value" / "cleared@value".
final class AlarmEngineTests: XCTestCase {
    func rule(_ level: AlarmLevel = .high, _ setpoint: Double = 25, deadband: Double = 2, on: Int = 0, off: Int = 0, latch: Bool = false) -> AlarmRule {
        AlarmRule(device: "gas-1", point: "gas", level: level, setpoint: setpoint, deadband: deadband, onDelayMs: on, offDelayMs: off,
                  latch: latch, severity: "critical")
    }

    func reading(_ value: Double?, quality: Quality = .good) -> Reading {
        Reading(timestamp: WallTime(milliseconds: 0, clockSynced: true), device: "gas-1", point: "gas", value: value.map { .double($0) },
                raw: .none, unit: "%LEL", label: nil, quality: quality, error: quality == .good ? nil : "timeout")
    }

    /// Feeds (ms, value) pairs; returns what happened, in order.
    func run(_ rules: [AlarmRule], _ feed: [(Int64, Double?)], bad: Set<Int> = []) -> [String] {
        var engine = AlarmEngine(rules: rules)
        var log: [String] = []
        for (i, (ms, value)) in feed.enumerated() {
            let events = engine.process(reading(value, quality: bad.contains(i) ? .bad : .good), seq: UInt64(i + 1), nowMs: ms)
            for e in events {
                let verb = e.kind == .alarmRaised ? "raised" : e.kind == .alarmCleared ? "cleared" : e.kind.rawValue
                let value = ((e.alarm!.value ?? .nan) * 1e6).rounded() / 1e6
                log.append("\(e.alarm!.level.rawValue) \(verb)@\(format(value)) seq \(e.alarm!.triggerSeq ?? 0)")
            }
        }
        return log
    }

    func testThresholdsWithHysteresis() {
        let cases: [(String, [AlarmRule], [(Int64, Double?)], [String])] = [
            ("below the setpoint: nothing", [rule()], [(0, 10), (1000, 24.9)], []),
            ("at the setpoint raises", [rule()], [(0, 10), (1000, 25)], ["high raised@25 seq 2"]),
            ("inside the deadband it stays", [rule()], [(0, 26), (1000, 24), (2000, 23.5), (3000, 22.9)],
             ["high raised@26 seq 1", "high cleared@22.9 seq 4"]),
            ("first and second level", [rule(), rule(.highhigh, 50)], [(0, 30), (1000, 55), (2000, 47), (3000, 20)],
             ["high raised@30 seq 1", "highhigh raised@55 seq 2", "highhigh cleared@47 seq 3", "high cleared@20 seq 4"]),
            ("low water", [rule(.low, 0.5, deadband: 0.1)], [(0, 1), (1000, 0.5), (2000, 0.55), (3000, 0.61)],
             ["low raised@0.5 seq 2", "low cleared@0.61 seq 4"]),
        ]
        for (name, rules, feed, expected) in cases { XCTAssertEqual(run(rules, feed), expected, name) }
    }

    func testOnAndOffDelays() {
        XCTAssertEqual(run([rule(on: 3000)], [(0, 30), (1000, 30), (2000, 20), (3000, 30), (5999, 30), (6000, 30)]),
                       ["high raised@30 seq 6"], "the condition must hold for the whole on-delay")
        XCTAssertEqual(run([rule(off: 2000)], [(0, 30), (1000, 10), (2000, 30), (3000, 10), (4000, 10), (5000, 10)]),
                       ["high raised@30 seq 1", "high cleared@10 seq 6"], "and the clear condition for the whole off-delay")
    }

    func testABadReadingNeitherRaisesNorClears() {
        XCTAssertEqual(run([rule()], [(0, 30), (1000, 40)], bad: [0, 1]), [], "bad readings carry no value to judge")
        XCTAssertEqual(run([rule()], [(0, 30), (1000, 5)], bad: [1]), ["high raised@30 seq 1"], "an alarm is not cleared by a bad reading")
    }

    func testALatchedAlarmStaysUntilAcknowledged() {
        var engine = AlarmEngine(rules: [rule(latch: true)])
        XCTAssertEqual(engine.process(reading(30), seq: 1, nowMs: 0).map(\.kind), [.alarmRaised])
        XCTAssertEqual(engine.process(reading(5), seq: 2, nowMs: 1000).map(\.kind), [], "latched: gas gone, alarm stays")
        XCTAssertEqual(engine.active.map(\.level), [.high])
        let acked = engine.acknowledge(device: "gas-1", point: "gas", level: .high, at: WallTime(milliseconds: 2000, clockSynced: true))
        XCTAssertEqual(acked.map(\.kind), [.alarmAcked, .alarmCleared])
        XCTAssertTrue(engine.active.isEmpty)
        // Acknowledged while the gas is still there: it clears when the gas goes.
        _ = engine.process(reading(30), seq: 3, nowMs: 3000)
        XCTAssertEqual(engine.acknowledge(device: "gas-1", point: "gas", level: .high, at: WallTime(milliseconds: 3500, clockSynced: true)).map(\.kind), [.alarmAcked])
        XCTAssertEqual(engine.process(reading(5), seq: 4, nowMs: 4000).map(\.kind), [.alarmCleared])
    }

    func testRateOfRise() {
        // 0.1 m a minute allowed; the level rises 0.3 m in 30 s = 0.6 m/min.
        var feed: [(Int64, Double?)] = []
        for second in 0...30 {
            let level: Double = 1.0 + Double(second) * 0.01
            feed.append((Int64(second) * 1000, level))
        }
        // Then it stays at 1.3: the rate over the last minute falls back.
        for second in 31...100 { feed.append((Int64(second) * 1000, 1.3)) }
        let log = run([rule(.rise, 0.1, deadband: 0.05)], feed)
        XCTAssertEqual(log.first, "rise raised@0.6 seq 11", "after 10 s of history, 0.1 m in 10 s")
        XCTAssertEqual(log.count, 2, "\(log)")
        XCTAssertTrue(log.last?.hasPrefix("rise cleared@") ?? false, "\(log)")
    }

    func testRulesComeFromPointsAndReloadKeepsUnchangedState() {
        var point = PointSpec(id: "gas", table: .holding, address: 0, type: .float32)
        var a = AlarmSetpoints(); a.high = 25; a.highHigh = 50; a.deadband = 2
        point.alarms = a
        let config = VigilConfig(file: "x", gateway: GatewaySpec(id: "g", stateDir: "/tmp"), buses: [],
                                 devices: [DeviceSpec(id: "gas-1", bus: "b", unit: 1, points: [point])])
        let rules = AlarmRule.rules(for: config)
        XCTAssertEqual(rules.map(\.level), [.high, .highhigh])
        var engine = AlarmEngine(rules: rules)
        _ = engine.process(reading(30), seq: 1, nowMs: 0)
        engine.reconfigure(rules)
        XCTAssertEqual(engine.active.map(\.level), [.high], "an unchanged rule keeps its active alarm over a reload")
        engine.reconfigure(rules.map { var r = $0; r.setpoint += 1; return r })
        XCTAssertTrue(engine.active.isEmpty, "a changed rule starts afresh")
    }
}

final class DetectorReportTests: XCTestCase {
    func testTheDetectorsOwnBitsAndModesAndStaleness() throws {
        var al1 = PointSpec(id: "alarm1", table: .holding, address: 5, type: .bool, bit: 0)
        al1.role = .alarm1
        var fault = PointSpec(id: "fault", table: .holding, address: 5, type: .bool, bit: 6)
        fault.role = .fault
        let config = VigilConfig(file: "x", gateway: GatewaySpec(id: "g", stateDir: "/tmp"), buses: [],
                                 devices: [DeviceSpec(id: "xnx", bus: "b", unit: 1, points: [al1, fault])])
        let rules = AlarmRule.rules(for: config)
        XCTAssertEqual(rules.map(\.level), [.high, .fault])
        var engine = AlarmEngine(rules: rules)
        func reading(_ point: String, _ on: Bool, mode: String? = nil, quality: Quality = .good) -> Reading {
            Reading(timestamp: WallTime(milliseconds: 0, clockSynced: true), device: "xnx", point: point, value: .bool(on), raw: RawRegisters(words: [on ? 1 : 0]),
                    unit: nil, label: nil, quality: quality, error: nil, mode: mode)
        }
        XCTAssertEqual(engine.process(reading("alarm1", true), seq: 1, nowMs: 0).map { "\($0.kind) \($0.alarm!.level)" }, ["alarmRaised high"])
        XCTAssertEqual(engine.process(reading("fault", true), seq: 2, nowMs: 0).map { "\($0.kind) \($0.alarm!.level)" }, ["alarmRaised fault"])
        XCTAssertEqual(engine.process(reading("alarm1", false), seq: 3, nowMs: 0).map { "\($0.kind) \($0.alarm!.level)" }, ["alarmCleared high"])
        XCTAssertTrue(engine.process(reading("alarm1", true, mode: "inhibit"), seq: 4, nowMs: 0).isEmpty, "inhibit: flagged, no alarm")
        XCTAssertTrue(engine.process(reading("alarm1", true, quality: .stale), seq: 5, nowMs: 0).isEmpty, "a stuck detector decides nothing")
    }

    func testRoleRules() {
        let loader = ConfigLoader(profiles: ProfileLibrary(directories: []), environment: .system(machineIDFile: "/nonexistent"))
        guard case .failure(let e) = loader.parse("{ gateway: { id: 'g' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }], devices: [{ id: 'd', bus: 'b', unit: 1, points: [{ id: 'm', register: 40001, role: 'mode' }, { id: 'x', register: 40002, role: 'alarm3' }] }] }", file: "v.json5") else { return XCTFail() }
        XCTAssertTrue(e.description.contains("points[0].role: a mode point needs \"enum\" labels"), e.description)
        XCTAssertTrue(e.description.contains("points[1].role: \"alarm3\" is not one of alarm1, alarm2, fault, warning, heartbeat, mode"), e.description)
    }
}

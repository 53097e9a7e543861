import Foundation
import XCTest
import VigilTestSupport

/// Gas rising past both alarm levels and falling back, end to end: simulator
/// → agent → alarm engine → journal → uplink.
final class AlarmEndToEndTests: XCTestCase {
    /// An XNX on the simulator, 14 s into its curve (25 %LEL about 1 s later, 50 about 5 s, back
    /// under 23 about 11 s), polled every 200 ms by an agent whose uplink is `uplink`.
    func startGasRisingAndFalling(uplink: String, extra: String = "", in dir: String) throws -> (sim: PeerProcess, agent: PeerProcess) {
        let port = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(port)", "--device", "1:honeywell-xnx", "--start-at", "14"])
        XCTAssertTrue(sim.waitFor("serving"))
        try """
            { gateway: { id: 'gw-alarm', state_dir: '\(dir)/state' },
              buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(port) }],
              devices: [{ id: 'gas-1', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 200 }],
              uplink: \(uplink) \(extra) }
            """.write(toFile: "\(dir)/vigil.json5", atomically: true, encoding: .utf8)
        return (sim, try PeerProcess(Repo.vigil, ["run", "--config", "\(dir)/vigil.json5"]))
    }

    func records(_ agent: PeerProcess) -> [[String: Any]] {
        agent.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func testGasPastTwentyFiveAndFiftyLELAndBackRaisesAndClearsInOrder() throws {
        let (sim, agent) = try startGasRisingAndFalling(uplink: "{ kind: 'stdout' }", in: temporaryDirectory())
        defer { sim.stop(); agent.stop() }
        func records() -> [[String: Any]] { self.records(agent) }
        func alarms() -> [[String: Any]] { records().filter { ($0["event"] as? String)?.hasPrefix("alarm_") ?? false } }
        func gasAlarms() -> [[String: Any]] { alarms().filter { $0["point"] as? String == "gas" } }
        XCTAssertTrue(eventually(timeout: 25) { gasAlarms().count >= 4 && alarms().count >= 8 }, "\(alarms())\n\(agent.stderr)")
        // The detector's own AL1/AL2 bits raise and clear too (what it says about itself counts).
        let reported = alarms().filter { $0["point"] as? String != "gas" }.map { "\($0["event"]!) \($0["point"]!) \($0["level"]!)" }
        XCTAssertEqual(Set(reported), ["alarm_raised alarm1 high", "alarm_raised alarm2 highhigh", "alarm_cleared alarm2 highhigh", "alarm_cleared alarm1 high"])
        let events = gasAlarms()
        // Telemetry follows the events lane within flush_ms.
        let triggers = Set(events.compactMap { $0["trigger_seq"] as? Int })
        XCTAssertTrue(eventually(timeout: 5) { Set(records().compactMap { $0["seq"] as? Int }).isSuperset(of: triggers) })
        XCTAssertEqual(events.map { "\($0["event"]!) \($0["level"]!)" },
                       ["alarm_raised high", "alarm_raised highhigh", "alarm_cleared highhigh", "alarm_cleared high"])
        let readings = Dictionary(records().compactMap { r -> (Int, Double)? in
            guard r["point"] as? String == "gas", r["event"] == nil, let seq = r["seq"] as? Int, let v = r["value"] as? Double else { return nil }
            return (seq, v)
        }, uniquingKeysWith: { a, _ in a })
        for e in events {
            let trigger = try XCTUnwrap(e["trigger_seq"] as? Int)
            let value = try XCTUnwrap(readings[trigger], "the triggering reading \(trigger) was delivered too")
            XCTAssertEqual(value, e["value"] as? Double)
            XCTAssertEqual(e["device"] as? String, "gas-1")
            XCTAssertEqual(e["point"] as? String, "gas")
        }
        XCTAssertGreaterThanOrEqual(events[0]["value"] as! Double, 25)
        XCTAssertGreaterThanOrEqual(events[1]["value"] as! Double, 50)
        XCTAssertLessThan(events[2]["value"] as! Double, 48, "cleared only past the 2 %LEL deadband")
        XCTAssertLessThan(events[3]["value"] as! Double, 23)
        // The log line says it as a technician would: value with its unit, and the setpoint.
        let raised = agent.stderr.split(separator: "\n").first { $0.contains("ALARM raised: gas-1 gas high at ") }
        XCTAssertTrue(raised?.hasSuffix(" %LEL, setpoint 25") ?? false, agent.stderr)
        XCTAssertTrue(raised?.contains(" warning: ALARM raised") ?? false, "a timestamp and level outside journald: \(raised ?? "")")

        // On SIGTERM the polls in flight end and are evaluated first: no alarm line after "stopping".
        agent.signal(SIGTERM)
        XCTAssertEqual(agent.stop(timeout: 10), 0)
        let lines = agent.stderr.split(separator: "\n")
        let stopping = try XCTUnwrap(lines.lastIndex { $0.contains("vigil: stopping") }, agent.stderr)
        XCTAssertFalse(lines[stopping...].contains { $0.lowercased().contains("alarm") }, agent.stderr)
    }

    /// Report by exception with a deadband wider than the gas swings between polls:
    /// the alarm engine still sees every poll (the same four alarms), each alarm's
    /// triggering reading is delivered, and most polls stay on the gateway
    /// (`vigil values` still shows the newest).
    func testReportByExceptionSendsFewerReadingsButEveryAlarmAndItsReading() throws {
        let dir = temporaryDirectory()
        let (sim, agent) = try startGasRisingAndFalling(uplink: "{ kind: 'stdout', report: { deadband: 60, every_s: 3600 } }",
                                                         extra: ", control: { socket: '\(dir)/control.sock' }", in: dir)
        defer { sim.stop(); agent.stop() }
        func records() -> [[String: Any]] { self.records(agent) }
        func gasAlarms() -> [[String: Any]] { records().filter { ($0["event"] as? String)?.hasPrefix("alarm_") == true && $0["point"] as? String == "gas" } }
        XCTAssertTrue(eventually(timeout: 25) { gasAlarms().count >= 4 }, "\(gasAlarms())\n\(agent.stderr)")
        let events = gasAlarms()
        XCTAssertEqual(events.map { "\($0["event"]!) \($0["level"]!)" },
                       ["alarm_raised high", "alarm_raised highhigh", "alarm_cleared highhigh", "alarm_cleared high"])
        let triggers = events.compactMap { $0["trigger_seq"] as? Int }
        XCTAssertEqual(triggers.count, 4, "every alarm names its reading: \(events)")
        XCTAssertTrue(eventually(timeout: 5) { Set(records().compactMap { $0["seq"] as? Int }).isSuperset(of: triggers) })
        let gas = records().filter { $0["point"] as? String == "gas" && $0["event"] == nil }
        for (event, trigger) in zip(events, triggers) {
            let reading = try XCTUnwrap(gas.first { $0["seq"] as? Int == trigger }, "reading \(trigger) delivered")
            XCTAssertEqual(reading["value"] as? Double, event["value"] as? Double)
        }
        // About 60 polls went by; sent: the first, the four that moved an alarm, and no more than a few others.
        let status = try runCommand(Repo.vigil, ["status", "--json", "--socket", "\(dir)/control.sock"])
        let polls = (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            .flatMap { ($0["devices"] as? [[String: Any]])?.first?["polls"] as? Int } ?? 0
        XCTAssertGreaterThan(polls, 40, status.stdout)
        XCTAssertLessThanOrEqual(gas.count, 8, "\(gas.map { $0["value"] ?? "bad" })")
        // The gateway keeps the newest value of every poll.
        let values = try runCommand(Repo.vigil, ["values", "gas-1", "--json", "--socket", "\(dir)/control.sock"])
        let newest = (try JSONSerialization.jsonObject(with: Data(values.stdout.utf8)) as? [[String: Any]])?.first { $0["point"] as? String == "gas" }
        let age = try XCTUnwrap(newest?["age_seconds"] as? Double, values.stdout)
        XCTAssertLessThan(age, 2, values.stdout)
    }
}

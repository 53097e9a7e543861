import Foundation
import XCTest
import VigilLab
import VigilCore
@testable import VigilAgent
import VigilGPIO
import VigilUplink
import VigilAgentTestSupport
import VigilTestSupport

/// Alarms acting on site: the simulator's gas curve and a flood contact drive
/// the relays of a fake GPIO backend through the agent, and every alarm and
/// switch reaches `vigil receive` in order.
final class GPIOEndToEndTests: XCTestCase {
    let flood = GPIOLine(chip: "fakechip", offset: 1)
    let siren = GPIOLine(chip: "fakechip", offset: 10)
    let valve = GPIOLine(chip: "fakechip", offset: 11)
    let pump = GPIOLine(chip: "fakechip", offset: 12)
    let led = GPIOLine(chip: "fakechip", offset: 20)

    func lines(_ path: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func testGasAndFloodAlarmsSwitchTheRelaysAndReleaseThem() throws {
        let simPort = freeTCPPort(), receiverPort = freeTCPPort()
        // 14 s into the curve: 25 %LEL about 1 s later, 50 about 5 s, back under 23 about 11 s.
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(simPort)", "--device", "1:honeywell-xnx", "--start-at", "14"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        let dir = temporaryDirectory()
        let receiver = try PeerProcess(Repo.vigil, ["receive", "--listen", "127.0.0.1:\(receiverPort)", "--out", "\(dir)/out.jsonl"])
        XCTAssertTrue(receiver.waitFor("listening"))
        defer { receiver.stop() }
        let text = """
            { gateway: { id: 'gw-gpio', state_dir: '\(dir)/state' },
              buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(simPort) }],
              devices: [{ id: 'gas-1', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 200 }],
              inputs: [{ id: 'flood', chip: 'fakechip', offset: 1, debounce_ms: 30 }],
              outputs: [{ id: 'siren', chip: 'fakechip', offset: 10 }, { id: 'valve', chip: 'fakechip', offset: 11 },
                        { id: 'pump', chip: 'fakechip', offset: 12 }],
              actions: [{ when: { device: 'gas-1', point: 'gas' }, set: { siren: 'on' } },
                        { when: { device: 'gas-1', point: 'gas', level: 'highhigh' }, set: { valve: 'on' }, latch: true },
                        { when: { device: 'gpio', point: 'flood' }, set: { pump: 'on' } }],
              status_led: { chip: 'fakechip', offset: 20 },
              uplink: { kind: 'http', url: 'http://127.0.0.1:\(receiverPort)/ingest', flush_ms: 100 } }
            """
        let loader = ConfigLoader(profiles: ProfileLibrary(directories: [Repo.path("Profiles")]), environment: .system(machineIDFile: "/nonexistent"))
        guard case .success(let config) = loader.parse(text, file: "vigil.json5") else { return XCTFail("\(loader.parse(text, file: "vigil.json5"))") }
        let backend = FakeGPIOBackend()
        let log = Logger(threshold: .error)
        let daemon = try Daemon(config: config, uplink: try HTTPUplink(spec: HTTPUplinkSpec(url: "http://127.0.0.1:\(receiverPort)/ingest"), gateway: "gw-gpio"),
                                gpioBackend: backend, log: log)
        XCTAssertEqual(backend.history(siren), [false], "every output starts in its safe state")
        daemon.start()
        var stopped = false
        defer { if !stopped { daemon.stop() } }

        // Gas: the siren sounds at the first level, the valve closes at the second and stays closed (latched).
        XCTAssertTrue(eventually(timeout: 20) { backend.history(siren) == [false, true, false] }, "\(backend.history(siren))")
        XCTAssertEqual(backend.history(valve), [false, true], "latched: still closed after the gas cleared")
        XCTAssertEqual(daemon.sink.activeAlarms.filter { $0.device == "gas-1" && $0.point == "gas" }, [])
        XCTAssertTrue(backend.history(led).contains(true), "the status LED blinks")
        _ = try daemon.resetLatch(output: "valve", by: "test")
        XCTAssertEqual(backend.history(valve), [false, true, false], "an operator's reset opens it again")

        // Flood: a bouncing float switch starts the pump once, and stops it once when it is dry again.
        for level in [true, false, true] { backend.push(flood, level: level) }
        XCTAssertTrue(eventually(timeout: 3) { backend.history(pump) == [false, true] }, "\(backend.history(pump))")
        for level in [false, true, false] { backend.push(flood, level: level) }
        XCTAssertTrue(eventually(timeout: 3) { backend.history(pump) == [false, true, false] }, "\(backend.history(pump))")

        // An override wins over the rules until released.
        _ = try daemon.override(output: "pump", true, by: "test")
        XCTAssertEqual(backend.history(pump).last, true)
        _ = try daemon.override(output: "pump", nil, by: "test")
        XCTAssertEqual(backend.history(pump).last, false)
        XCTAssertThrowsError(try daemon.override(output: "pmup", true, by: "test")) { error in
            XCTAssertEqual("\(error)", "no output \"pmup\" (outputs: siren, valve, pump)")
        }

        // The upstream sees the alarms and the switches, in order.
        func events() -> [String] {
            lines("\(dir)/out.jsonl").compactMap { r -> String? in
                guard let e = r["event"] as? String, e.hasPrefix("alarm_") || e == "output_changed" else { return nil }
                if e == "output_changed" { return "\(e) \((r["detail"] as! String).split(separator: ":")[0])" }
                guard r["point"] as? String == "gas" || r["device"] as? String == "gpio" else { return nil }
                return "\(e) \(r["device"]!) \(r["point"]!) \(r["level"]!)"
            }
        }
        XCTAssertTrue(eventually(timeout: 5) { events().count >= 14 }, "\(events())")
        XCTAssertEqual(events(), [
            "alarm_raised gas-1 gas high", "output_changed siren on",
            "alarm_raised gas-1 gas highhigh", "output_changed valve on",
            "alarm_cleared gas-1 gas highhigh",
            "alarm_cleared gas-1 gas high", "output_changed siren off",
            "output_changed valve off",
            "alarm_raised gpio flood high", "output_changed pump on",
            "alarm_cleared gpio flood high", "output_changed pump off",
            "output_changed pump on", "output_changed pump off",
        ])
        let switched = lines("\(dir)/out.jsonl").compactMap { $0["detail"] as? String }
        XCTAssertTrue(switched.contains("siren on: gas-1 gas high"), "\(switched)")
        XCTAssertTrue(switched.contains("valve off: latch reset by test"), "\(switched)")

        // An orderly stop puts every output in its safe state.
        _ = try daemon.override(output: "siren", true, by: "test")
        daemon.stop()
        stopped = true
        XCTAssertEqual(backend.history(siren).last, false)
        XCTAssertEqual(backend.history(led).last, false)
    }

    func testAnInputActiveAtStartRaisesAtOnceAndABrokenLineGivesBadReadings() throws {
        let backend = FakeGPIOBackend()
        backend.setLevel(flood, true)
        let sink = CollectingSink()
        let watcher = InputWatcher(spec: InputSpec(id: "flood", line: flood, debounceMs: 20, intervalMs: 1000), backend: backend, sink: sink)
        watcher.start()
        XCTAssertTrue(eventually(timeout: 2) { sink.latest("gpio", "flood")?.value == .bool(true) })
        XCTAssertEqual(sink.latest("gpio", "flood")?.label, "active")
        // A bounce shorter than the debounce time never reaches the readings.
        backend.push(flood, level: false)
        backend.push(flood, level: true)
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(sink.readings(of: "gpio", point: "flood").map(\.value), [.bool(true)])
        // Nothing changes: a reading every interval_ms all the same.
        XCTAssertTrue(eventually(timeout: 3) { sink.readings(of: "gpio", point: "flood").count >= 2 })
        watcher.stop()

        let busy = GPIOLine(chip: "fakechip", offset: 2)
        backend.breakLine(busy)
        let badSink = CollectingSink()
        let broken = InputWatcher(spec: InputSpec(id: "door", line: busy), backend: backend, sink: badSink)
        broken.start()
        XCTAssertTrue(eventually(timeout: 2) { !badSink.readings.isEmpty })
        broken.stop()
        let bad = try XCTUnwrap(badSink.readings.first)
        XCTAssertEqual(bad.quality, .bad)
        XCTAssertEqual(bad.error, "fakechip line 2: cannot request the line: Device or resource busy")
    }

    func testTheInputWatchersAndTheControlSocketAreSupervised() throws {
        let supervisor = SupervisorService(graceSeconds: 30)
        let backend = FakeGPIOBackend()
        let watcher = InputWatcher(spec: InputSpec(id: "flood", line: flood), backend: backend, sink: CollectingSink(), supervisor: supervisor)
        watcher.start()
        let dir = temporaryDirectory()
        let config = try XCTUnwrap(try? ConfigLoader(profiles: ProfileLibrary(directories: [])).parse(
            "{ gateway: { id: 'g', state_dir: '\(dir)/state' }, buses: [], devices: [], control: { socket: '\(dir)/c.sock' } }", file: "v.json5").get())
        let daemon = try Daemon(config: config, uplink: StdoutUplink(), gpioBackend: backend, log: Logger(threshold: .error))
        daemon.start()
        XCTAssertTrue(eventually(timeout: 2) { supervisor.partNames.contains("gpio input flood") })
        XCTAssertTrue(daemon.supervisor.partNames.contains("control socket"), "\(daemon.supervisor.partNames)")
        XCTAssertEqual(supervisor.evaluate().verdict, .healthy)
        watcher.stop()
        daemon.stop()
        XCTAssertFalse(supervisor.partNames.contains("gpio input flood"), "a stopped part is no longer watched")
        XCTAssertFalse(daemon.supervisor.partNames.contains("control socket"))
    }

    func testAnOutputThatCannotBeRequestedLeavesTheOthersWorking() throws {
        let backend = FakeGPIOBackend()
        backend.breakLine(valve)
        var spec = GPIOSpec()
        spec.outputs = [OutputSpec(id: "siren", line: siren), OutputSpec(id: "valve", line: valve)]
        spec.actions = [ActionRule(device: "gas-1", output: "siren"), ActionRule(device: "gas-1", output: "valve")]
        let controller = OutputController(spec: spec, backend: backend)
        let alarm = AlarmRule(device: "gas-1", point: "gas", level: .high, setpoint: 25)
        let events = controller.update(active: [alarm], at: SystemClock.shared.now())
        XCTAssertEqual(events.map(\.detail), ["siren on: gas-1 gas high"])
        XCTAssertEqual(backend.history(siren), [false, true])
        let states = controller.states
        XCTAssertEqual(states.map(\.on), [true, nil])
        XCTAssertEqual(states[1].error, "fakechip line 11: cannot request the line: Device or resource busy")
    }
}

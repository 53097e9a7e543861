import XCTest
@testable import VigilCore
import VigilTestSupport

/// `inputs`, `outputs`, `actions` and `status_led`: labels resolved through the
/// board, and every mistake named with its path.
final class GPIOConfigTests: XCTestCase {
    let loader = ConfigLoader(profiles: ProfileLibrary(directories: [Repo.path("Profiles")]),
                              boards: BoardLibrary(directories: [Repo.path("Boards")]), environment: .system(machineIDFile: "/nonexistent"))

    func parse(_ gpio: String, board: String = "raspberry-pi-waveshare-rs485-hat") -> Result<VigilConfig, ConfigErrors> {
        loader.parse("""
            { gateway: { id: 'g', board: '\(board)' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }],
              devices: [{ id: 'gas-1', bus: 'b', unit: 1, profile: 'honeywell-xnx' }],
              \(gpio) }
            """, file: "vigil.json5")
    }

    func errors(_ gpio: String, board: String = "raspberry-pi-waveshare-rs485-hat") -> String {
        guard case .failure(let e) = parse(gpio, board: board) else { return "(no errors)" }
        return e.description
    }

    func testTheShippedGarageExampleResolvesItsLabelsAndExpandsItsActions() throws {
        guard case .success(let c) = loader.load(file: Repo.path("Examples/garage-gas-and-flood.json5")) else { return XCTFail() }
        XCTAssertEqual(c.gpio.inputs.map(\.id), ["sump-float", "smoke-ramp"])
        XCTAssertEqual(c.gpio.inputs[0].line, GPIOLine(chip: "gpiochip0", offset: 17, activeLow: true, bias: .pullUp, label: "DI1"))
        XCTAssertEqual(c.gpio.inputs[0].debounceMs, 200)
        XCTAssertEqual(c.gpio.inputs[1].alarm?.latch, true)
        XCTAssertEqual(c.gpio.outputs.map(\.line.offset), [5, 6])
        XCTAssertEqual(c.gpio.statusLED?.offset, 26)
        XCTAssertEqual(c.gpio.actions.count, 6)
        XCTAssertEqual(c.gpio.actions[2], ActionRule(device: "gas-ramp", point: "gas", level: .highhigh, output: "gas-valve", value: true, latch: true))
        // Inputs take alarms like any point: active raises `high` on device gpio.
        let rules = AlarmRule.rules(for: c).filter { $0.device == GPIOSpec.device }
        XCTAssertEqual(rules.map(\.point), ["sump-float", "smoke-ramp"])
        XCTAssertEqual(rules.map(\.latch), [false, true])
        XCTAssertEqual(rules[0].setpoint, 1)
        XCTAssertEqual(rules[0].severity, "critical")
    }

    func testChipAndOffsetWorkWithoutABoardAndOverrideTheElectricalDetails() throws {
        guard case .success(let c) = loader.parse("""
            { gateway: { id: 'g' }, buses: [], devices: [],
              inputs: [{ id: 'door', chip: 'gpiochip1', offset: 4, active_low: true, bias: 'pull-up', alarm: false }],
              outputs: [{ id: 'pump', chip: 'gpiochip1', offset: 5, safe_state: 'on' }] }
            """, file: "v.json5") else { return XCTFail() }
        XCTAssertEqual(c.gpio.inputs[0].line, GPIOLine(chip: "gpiochip1", offset: 4, activeLow: true, bias: .pullUp))
        XCTAssertNil(c.gpio.inputs[0].alarm, "alarm: false records the input without raising")
        XCTAssertEqual(c.gpio.safeStates, ["pump": true])
    }

    func testLabelMistakes() {
        XCTAssertTrue(errors("inputs: [{ id: 'f', line: 'DI3' }]").contains(
            "inputs[0].line: board \"Raspberry Pi 4/5 + Waveshare RS485 CAN HAT\" has no digital input \"DI3\"; did you mean \"DI1\"?"))
        XCTAssertTrue(errors("outputs: [{ id: 'siren', line: 'DI1' }]").contains("outputs[0].line: board \"Raspberry Pi 4/5 + Waveshare RS485 CAN HAT\" has no relay or LED \"DI1\""))
        let noBoard = loader.parse("{ gateway: { id: 'g' }, buses: [], devices: [], inputs: [{ id: 'f', line: 'DI1' }] }", file: "v.json5")
        guard case .failure(let e) = noBoard else { return XCTFail() }
        XCTAssertTrue(e.description.contains("inputs[0].line: a line label needs gateway.board (or give \"chip\" and \"offset\")"), e.description)
        XCTAssertTrue(errors("inputs: [{ id: 'f' }]").contains("inputs[0].line: is required (a board label such as \"DI1\"), or \"chip\" and \"offset\""))
        XCTAssertTrue(errors("inputs: [{ id: 'f', line: 'DI1', chip: 'gpiochip0', offset: 1 }]").contains("inputs[0].line: give either \"line\""))
        XCTAssertTrue(errors("status_led: 'LED9'").contains("status_led: board \"Raspberry Pi 4/5 + Waveshare RS485 CAN HAT\" has no LED \"LED9\""))
    }

    func testALineHasOneOwnerAndIDsAreUnique() {
        let e = errors("""
            inputs: [{ id: 'a', line: 'DI1' }, { id: 'a', line: 'DI2' }, { id: 'c', chip: 'gpiochip0', offset: 17 }],
            outputs: [{ id: 'siren', line: 'RELAY1' }], status_led: { chip: 'gpiochip0', offset: 5 }
            """)
        XCTAssertTrue(e.contains("inputs[2]: gpiochip0 line 17 is already used by inputs[0]"), e)
        XCTAssertTrue(e.contains("status_led: gpiochip0 line 5 is already used by outputs[0]"), e)
        XCTAssertTrue(e.contains("inputs[1].id: duplicate input id \"a\""), e)
    }

    func testActionMistakes() {
        let outputs = "inputs: [{ id: 'flood', line: 'DI1' }], outputs: [{ id: 'siren', line: 'RELAY1' }, { id: 'valve', line: 'RELAY2' }],"
        let e = errors("""
            \(outputs)
            actions: [
              { when: { device: 'gas-2' }, set: { siren: 'on' } },
              { when: { device: 'gas-1', point: 'gaz', level: 'highhigh' }, set: { valve: 'on' } },
              { when: { device: 'gas-1', level: 'hihi' }, set: { sirne: 'on', valve: 'open' } },
              { when: { device: 'gpio', point: 'flod' }, set: {} },
              { set: { siren: 'on' } },
            ]
            """)
        XCTAssertTrue(e.contains("actions[0].when.device: no device has the id \"gas-2\"; did you mean \"gas-1\"?"), e)
        XCTAssertTrue(e.contains("actions[1].when.point: device \"gas-1\" has no point \"gaz\"; did you mean \"gas\"?"), e)
        XCTAssertTrue(e.contains("actions[2].when.level: \"hihi\" is not one of"), e)
        XCTAssertTrue(e.contains("actions[2].set.sirne: no output has the id \"sirne\"; did you mean \"siren\"?"), e)
        XCTAssertTrue(e.contains("actions[2].set.valve: expected \"on\" or \"off\", found a string"), e)
        XCTAssertTrue(e.contains("actions[3].when.point: device \"gpio\" has no point \"flod\"; did you mean \"flood\"?"), e)
        XCTAssertTrue(e.contains("actions[3].set: names no output"), e)
        XCTAssertTrue(e.contains("actions[4].when: is required"), e)
    }

    func testGPIOIsAReservedDeviceID() {
        guard case .failure(let e) = loader.parse("""
            { gateway: { id: 'g' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }],
              devices: [{ id: 'gpio', bus: 'b', unit: 1, points: [{ id: 'p', register: 40001 }] }] }
            """, file: "v.json5") else { return XCTFail() }
        XCTAssertTrue(e.description.contains("devices[0].id: \"gpio\" is reserved for the gateway's own inputs"), e.description)
    }

    func testTheStatusLEDPatterns() {
        XCTAssertEqual(StatusLEDPattern.current(alarmActive: true, uplinkHealthy: false), .alarm, "an alarm outranks a down uplink")
        XCTAssertEqual(StatusLEDPattern.current(alarmActive: false, uplinkHealthy: false), .uplinkDown)
        XCTAssertEqual(StatusLEDPattern.current(alarmActive: false, uplinkHealthy: true), .ok)
        func litShare(_ p: StatusLEDPattern, periodMs: Int64) -> (share: Double, toggles: Int) {
            let samples = (0..<periodMs * 4).map { p.lit(atMs: $0) }
            let toggles = zip(samples, samples.dropFirst()).filter { $0 != $1 }.count
            return (Double(samples.filter { $0 }.count) / Double(samples.count), toggles)
        }
        XCTAssertEqual(litShare(.alarm, periodMs: 1000).toggles, 31, "4 Hz: 16 flashes in 4 s")
        XCTAssertEqual(litShare(.uplinkDown, periodMs: 1000).toggles, 7, "1 Hz")
        XCTAssertEqual(litShare(.ok, periodMs: 2000).share, 0.95, accuracy: 0.001, "steady, with a short blink")
    }
}

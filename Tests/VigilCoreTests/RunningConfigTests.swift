import XCTest
@testable import VigilCore

final class RunningConfigTests: XCTestCase {
    private func config(uplink: UplinkSpec = .stdout, devices: [String] = ["gas-1"], outputs: [String] = []) -> VigilConfig {
        var c = VigilConfig(file: "vigil.json5", gateway: GatewaySpec(id: "gw", stateDir: "/var/lib/vigil"),
                            buses: [BusSpec(id: "b", transport: .tcp(host: "127.0.0.1", port: 502), timeoutMs: 300, retries: 0)],
                            devices: devices.map { DeviceSpec(id: $0, bus: "b", unit: 1, points: []) }, uplink: uplink)
        c.gpio.outputs = outputs.map { OutputSpec(id: $0, line: GPIOLine(chip: "gpiochip0", offset: 1)) }
        return c
    }

    func testWhatCanChangeRunsAtOnceAndTheRestWaitsForARestart() {
        var running = RunningConfig(config())
        let http = UplinkSpec.http(HTTPUplinkSpec(url: "https://example.net/ingest"))
        let effective = running.apply(config(uplink: http, devices: ["gas-1", "gas-2"]))
        XCTAssertEqual(effective.devices.map(\.id), ["gas-1", "gas-2"], "devices apply at once")
        XCTAssertEqual(effective.uplink, .stdout, "the uplink keeps running as started")
        XCTAssertEqual(running.effective, effective, "one state: what every part reads")
        XCTAssertEqual(running.waitingForRestart, ["uplink"])

        // Put back as started: nothing waits any more.
        running.apply(config(devices: ["gas-1", "gas-2"]))
        XCTAssertEqual(running.waitingForRestart, [])
    }

    func testOutputsWaitButGPIOAddedToAGatewayStartedWithoutItWaitsWhole() {
        var withOutputs = RunningConfig(config(outputs: ["siren"]))
        XCTAssertEqual(withOutputs.apply(config(outputs: ["siren", "valve"])).gpio.outputs.map(\.id), ["siren"])
        XCTAssertEqual(withOutputs.waitingForRestart, ["outputs and status LED"])

        var without = RunningConfig(config())
        XCTAssertTrue(without.apply(config(outputs: ["siren"])).gpio.isEmpty)
        XCTAssertEqual(without.waitingForRestart, ["gpio"])
    }
}

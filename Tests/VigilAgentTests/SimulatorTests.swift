import Foundation
import XCTest
import VigilCore
import VigilModbus
import VigilAgent
@testable import VigilLab
import VigilAgentTestSupport
import VigilTestSupport

/// `vigil simulate`, read by the agent, by our client and by mbpoll.
final class SimulatorTests: XCTestCase {
    func startSimulate(_ arguments: [String]) throws -> PeerProcess {
        let sim = try PeerProcess(Repo.vigil, ["simulate"] + arguments)
        guard sim.waitFor("serving") else {
            sim.stop()
            throw MissingPeer(description: "vigil simulate did not start: \(sim.stderr)")
        }
        return sim
    }

    func loadedConfig(_ text: String) throws -> VigilConfig {
        let loader = ConfigLoader(profiles: ProfileLibrary(directories: [Repo.path("Profiles")]), environment: .system(machineIDFile: "/nonexistent"))
        switch loader.parse(text, file: "test.json5") {
        case .success(let c): return c
        case .failure(let e): throw e
        }
    }

    func testAgentPollsSimulatedSensorsFromTheirProfiles() throws {
        let port = freeTCPPort()
        let sim = try startSimulate(["--tcp", "127.0.0.1:\(port)", "--device", "1:honeywell-xnx", "--device", "2:qdy30a-level", "--device", "3:system-sensor-faast"])
        defer { sim.stop() }
        let config = try loadedConfig("""
            { gateway: { id: 'gw' }, buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(port) }],
              devices: [
                { id: 'gas', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 200 },
                { id: 'level', bus: 'sim', unit: 2, profile: 'qdy30a-level', interval_ms: 200 },
                { id: 'smoke', bus: 'sim', unit: 3, profile: 'system-sensor-faast', interval_ms: 200 },
              ] }
            """)
        let sink = CollectingSink()
        let agent = Agent(config: config, sink: sink)
        agent.start()
        defer { agent.stop() }
        XCTAssertTrue(eventually { sink.readings(of: "smoke", point: "fire1").count >= 3 })
        XCTAssertTrue(sink.readings.allSatisfy { $0.quality == .good }, "\(sink.readings.filter { $0.quality != .good })")
        guard case .float(let gas)? = sink.latest("gas", "gas")?.value else { return XCTFail("gas is a float32") }
        XCTAssertTrue((0.0...60.0).contains(Double(gas)), "\(gas)")
        XCTAssertEqual(sink.latest("gas", "unit_code")?.label, "%LEL")
        guard case .double(let level)? = sink.latest("level", "level")?.value else { return XCTFail("level is scaled by its decimals") }
        XCTAssertTrue((0.29...2.11).contains(level), "\(level)")
        XCTAssertEqual(sink.latest("level", "decimals")?.value, .uint(2))
        XCTAssertEqual(sink.latest("level", "unit_code")?.label, "mH2O")
        XCTAssertEqual(sink.latest("smoke", "operating_mode")?.label, "configuration")
    }

    func testSimulatedFaults() throws {
        let port = freeTCPPort()
        let sim = try startSimulate(["--tcp", "127.0.0.1:\(port)", "--device", "4:generic-smoke:silent", "--device", "5:generic-smoke:exception:6"])
        defer { sim.stop() }
        let config = try loadedConfig("""
            { gateway: { id: 'gw' }, buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(port), timeout_ms: 200, retries: 0 }],
              devices: [
                { id: 'dead', bus: 'sim', unit: 4, profile: 'generic-smoke', interval_ms: 100, offline_after: 2 },
                { id: 'busy', bus: 'sim', unit: 5, profile: 'generic-smoke', interval_ms: 100 },
              ] }
            """)
        let sink = CollectingSink()
        let agent = Agent(config: config, sink: sink)
        agent.start()
        defer { agent.stop() }
        XCTAssertTrue(eventually { sink.events.contains { $0.kind == .deviceOffline && $0.device == "dead" } }, "\(sink.events)")
        XCTAssertEqual(sink.events.first { $0.device == "dead" }?.detail, "timeout")
        XCTAssertTrue(eventually { sink.readings(of: "busy", point: "alarm").count >= 3 })
        XCTAssertTrue(sink.readings(of: "busy", point: "alarm").allSatisfy { $0.error == "exception 6 (server device busy)" })
        XCTAssertFalse(sink.events.contains { $0.kind == .deviceOffline && $0.device == "busy" }, "a device that answers with exceptions is there")
    }

    func testASilentDeviceIsDemotedSoItsBusMatesKeepTheirRate() throws {
        let port = freeTCPPort()
        let sim = try startSimulate(["--tcp", "127.0.0.1:\(port)", "--device", "1:qdy30a-level", "--device", "4:generic-smoke:silent"])
        defer { sim.stop() }
        let config = try loadedConfig("""
            { gateway: { id: 'gw' }, buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(port), timeout_ms: 400, retries: 0 }],
              devices: [
                { id: 'level', bus: 'sim', unit: 1, profile: 'qdy30a-level', interval_ms: 100 },
                { id: 'dead', bus: 'sim', unit: 4, profile: 'generic-smoke', interval_ms: 100, offline_after: 2 },
              ] }
            """)
        let sink = CollectingSink()
        let agent = Agent(config: config, sink: sink)
        agent.start()
        defer { agent.stop() }
        XCTAssertTrue(eventually { sink.events.contains { $0.kind == .deviceOffline && $0.device == "dead" } })
        let (levelBefore, deadBefore) = (sink.readings(of: "level", point: "level").count, sink.readings(of: "dead", point: "alarm").count)
        Thread.sleep(forTimeInterval: 3)
        let levelPolls = sink.readings(of: "level", point: "level").count - levelBefore
        let deadPolls = sink.readings(of: "dead", point: "alarm").count - deadBefore
        // Undemoted, every cycle would wait out a 400 ms timeout: about 6 polls of 'level' in 3 s instead of 30.
        XCTAssertGreaterThanOrEqual(levelPolls, 20, "the healthy device keeps (nearly) its 100 ms rate")
        XCTAssertLessThanOrEqual(deadPolls, 1, "the silent one is asked every 10 s")
    }

    func testMbpollSeesTheSameRegistersAsVigil() throws {
        let mbpoll = try requirePeer("mbpoll")
        let port = freeTCPPort()
        let sim = try startSimulate(["--tcp", "127.0.0.1:\(port)", "--device", "1:honeywell-xnx", "--freeze"])
        defer { sim.stop() }
        // mbpoll numbers registers from 1; -t 4:hex prints holding registers in hex.
        let result = try runCommand(mbpoll, ["-m", "tcp", "-p", String(port), "-a", "1", "-r", "1", "-c", "11", "-t", "4:hex", "-1", "127.0.0.1"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let theirs = result.stdout.split(separator: "\n").compactMap { line -> UInt16? in
            guard line.hasPrefix("["), let hex = line.split(separator: "\t").last, hex.hasPrefix("0x") else { return nil }
            return UInt16(hex.dropFirst(2), radix: 16)
        }
        let client = try ModbusClient(transport: .tcp(host: "127.0.0.1", port: port), timeoutMs: 1000)
        try client.connect()
        let ours = try client.readRegisters(unit: 1, table: .holding, address: 0, count: 11)
        XCTAssertEqual(theirs, ours)
        XCTAssertEqual(ours[10], 5, "unit code %LEL")
        XCTAssertEqual(RegisterCodec.decode(ours[2...3], type: .float32, order: .abcd), .float(Double(Float(2.0))), "frozen gas at its t=0 value")
    }

    func testSimulatesOverRTU() throws {
        let line = try SerialLinePair()
        let sim = try startSimulate(["--rtu", line.deviceSide, "--baud", "19200", "--device", "9:qdy30a-level"])
        defer { sim.stop() }
        let client = try ModbusClient(transport: .rtu(SerialSettings(device: line.agentSide, baud: 19200)), timeoutMs: 1000)
        try client.connect()
        let words = try client.readRegisters(unit: 9, table: .holding, address: 2, count: 3)
        XCTAssertEqual(words[0], 7, "mH2O")
        XCTAssertEqual(words[1], 2, "two decimals")
        XCTAssertTrue((29...211).contains(Int16(bitPattern: words[2])), "\(words)")
    }

    /// `vigil simulate --rtu-over-tcp`: a serial device server with detectors behind it,
    /// read by pymodbus's client with its RTU framer over TCP.
    func testSimulatesADeviceServerForPymodbus() throws {
        let python = try requirePymodbus()
        let port = freeTCPPort()
        let sim = try startSimulate(["--rtu-over-tcp", "127.0.0.1:\(port)", "--device", "9:qdy30a-level", "--device", "2:honeywell-xnx", "--freeze"])
        defer { sim.stop() }
        let script = """
            import sys
            from pymodbus.client import ModbusTcpClient
            from pymodbus import FramerType
            c = ModbusTcpClient("127.0.0.1", port=int(sys.argv[1]), framer=FramerType.RTU, timeout=0.5, retries=0)
            assert c.connect()
            print(c.read_holding_registers(2, count=2, device_id=9).registers)
            print(c.read_holding_registers(10, count=1, device_id=2).registers)
            try:
                r = c.read_holding_registers(2, count=2, device_id=7)
                print("unit 7:", r)
            except Exception as e:
                print("unit 7: no answer")
            print(c.read_holding_registers(2, count=2, device_id=9).registers)
            """
        let result = try runCommand(python, ["-c", script, String(port)])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(result.stdout.split(separator: "\n"), ["[7, 2]", "[5]", "unit 7: no answer", "[7, 2]"], result.stdout + result.stderr)
    }

    func testOneRTULineServesEveryUnitAndIgnoresOthersFrames() throws {
        let line = try SerialLinePair()
        let sim = try startSimulate(["--rtu", line.deviceSide, "--baud", "19200",
                                     "--device", "1:qdy30a-level", "--device", "2:honeywell-xnx", "--device", "5:qdy30a-level"])
        defer { sim.stop() }
        let client = try ModbusClient(transport: .rtu(SerialSettings(device: line.agentSide, baud: 19200)), timeoutMs: 500)
        try client.connect()
        // A multi-drop line: requests to each detector in turn, and to a unit nobody plays (its frame must not cost the next one).
        for round in 1...3 {
            for unit in [1, 2, 7, 5, 1] {
                do {
                    let words = try client.readRegisters(unit: unit, table: .holding, address: 2, count: 2)
                    XCTAssertNotEqual(unit, 7, "unit 7 is not simulated")
                    if unit != 2 { XCTAssertEqual(words, [7, 2], "round \(round) unit \(unit): the level profile's unit and decimals") }
                } catch {
                    XCTAssertEqual(unit, 7, "round \(round) unit \(unit): \(error)")
                }
            }
        }
        // mbpoll, a client we did not write, reads each unit on the same line.
        client.close()
        let mbpoll = try requirePeer("mbpoll")
        for unit in ["2", "5"] {
            let r = try runCommand(mbpoll, ["-m", "rtu", "-b", "19200", "-P", "none", "-a", unit, "-r", "1", "-c", "2", "-1", "-o", "1", line.agentSide])
            XCTAssertEqual(r.status, 0, "unit \(unit): \(r.stdout)\(r.stderr)")
        }
    }

    func testGasCurveCrossesBothAlarmLevelsAndReturns() {
        let values = stride(from: 0.0, through: 40.0, by: 0.5).map { SensorModel.primaryValue(kind: .combustibleGas, oel: nil, t: $0) }
        XCTAssertLessThan(values.first!, 5)
        XCTAssertGreaterThan(values.max()!, 50)
        XCTAssertLessThan(values.last!, 5)
        let smoke = stride(from: 0.0, through: 30.0, by: 1).map { SensorModel.primaryValue(kind: .smoke, oel: nil, t: $0) }
        XCTAssertEqual(Set(smoke), [0, 1])
    }
}

import Foundation
import Synchronization
import XCTest
import VigilCore
import VigilAgent
import VigilTestSupport

/// The technician's commands against a running agent (`vigil run` polling
/// `vigil simulate` or pymodbus), through the control socket.
final class ControlSocketTests: XCTestCase {
    struct RunningAgent {
        let process: PeerProcess
        let dir: String
        var socket: String { "\(dir)/control.sock" }
        var environment: [String: String] { ["VIGIL_SOCKET": socket] }

        func vigil(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            try runCommand(Repo.vigil, arguments, environment: environment)
        }

        func json(_ arguments: [String]) throws -> Any {
            let r = try vigil(arguments + ["--json"])
            guard r.status == 0 else { throw NSError(domain: "vigil \(arguments) exited \(r.status): \(r.stderr)", code: 1) }
            return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        }
    }

    /// `vigil run` polling one simulated Honeywell XNX every 100 ms, with `uplink`; by default its gas is past
    /// 25 %LEL at once, an alarm to deliver. `device`: more keys for the device's entry. Stop both.
    func startAgentPollingOneGasDetector(alarmAtOnce: Bool = true, device: String? = nil, uplink: String) throws -> (agent: RunningAgent, simulator: PeerProcess) {
        let port = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(port)", "--device", "1:honeywell-xnx"] + (alarmAtOnce ? ["--start-at", "16"] : []))
        guard sim.waitFor("serving") else {
            sim.stop()
            throw MissingPeer(description: "vigil simulate did not start: \(sim.stderr)")
        }
        do {
            let agent = try startAgent(buses: "{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(port) }",
                                       devices: "{ id: 'gas-1', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 100\(device.map { ", \($0)" } ?? "") }",
                                       extra: ", \(uplink)")
            return (agent, sim)
        } catch {
            sim.stop()
            throw error
        }
    }

    func startAgent(buses: String, devices: String, extra: String = "", board: String? = nil) throws -> RunningAgent {
        let dir = temporaryDirectory()
        try """
            { gateway: { id: 'gw-ctl', state_dir: '\(dir)/state' \(board.map { ", board: '\($0)'" } ?? "") }, buses: [\(buses)], devices: [\(devices)],
              control: { socket: '\(dir)/control.sock' } \(extra) }
            """.write(toFile: "\(dir)/vigil.json5", atomically: true, encoding: .utf8)
        let process = try PeerProcess(Repo.vigil, ["run", "--config", "\(dir)/vigil.json5"])
        XCTAssertTrue(eventually(timeout: 10) { FileManager.default.fileExists(atPath: "\(dir)/control.sock") }, process.stderr)
        return RunningAgent(process: process, dir: dir)
    }

    func testEveryCommandAgainstARunningAgent() throws {
        let port = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(port)", "--device", "1:honeywell-xnx", "--device", "2:qdy30a-level", "--freeze"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        let agent = try startAgent(buses: "{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(port), timeout_ms: 300 }",
                                   devices: "{ id: 'gas-1', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 200 }, { id: 'level-1', bus: 'sim', unit: 2, profile: 'qdy30a-level', interval_ms: 200 }")
        defer { agent.process.stop() }
        XCTAssertTrue(eventually(timeout: 5) { ((try? agent.json(["values"])) as? [[String: Any]])?.count ?? 0 >= 10 })

        // status: every part, as a table and as JSON.
        let status = try XCTUnwrap(try agent.json(["status"]) as? [String: Any])
        XCTAssertEqual(status["gateway"] as? String, "gw-ctl")
        let buses = try XCTUnwrap(status["buses"] as? [[String: Any]])
        XCTAssertEqual(buses.first?["state"] as? String, "connected")
        let devices = try XCTUnwrap(status["devices"] as? [[String: Any]])
        XCTAssertEqual(devices.map { $0["id"] as? String }, ["gas-1", "level-1"])
        XCTAssertEqual(devices.map { $0["state"] as? String }, ["online", "online"])
        XCTAssertNotNil(devices[0]["last_good_poll"] as? String)
        XCTAssertNotNil((status["queue"] as? [String: Any])?["last_seq"])
        XCTAssertEqual((status["uplink"] as? [String: Any])?["state"] as? String, "ok")
        let table = try agent.vigil(["status"])
        XCTAssertEqual(table.status, 0)
        XCTAssertTrue(table.stdout.contains("gas-1   sim 1    online"), table.stdout)

        // values: the frozen simulator's gas reads 2.0 %LEL, good, just now.
        let values = try XCTUnwrap(try agent.json(["values", "gas-1"]) as? [[String: Any]])
        let gas = try XCTUnwrap(values.first { $0["point"] as? String == "gas" })
        XCTAssertEqual(gas["value"] as? Double, 2.0, "a number, typed as in the readings, not the string \"2.0\"")
        XCTAssertEqual(gas["quality"] as? String, "good")
        XCTAssertLessThan(gas["age_seconds"] as? Double ?? 99, 2)
        XCTAssertEqual(try agent.vigil(["values", "gas-9"]).status, 2, "an unknown device is a usage error")

        // diag read through the agent's bus worker, decoded; and the same through --tcp (the agent owns it: proxied too).
        let read = try agent.vigil(["diag", "read", "--bus", "sim", "--unit", "1", "--register", "40003", "--type", "float32"])
        XCTAssertEqual(read.status, 0, read.stderr)
        XCTAssertTrue(read.stdout.contains("bus sim (through the agent)"), read.stdout)
        XCTAssertTrue(read.stdout.contains("request   03 00 02 00 02"), read.stdout)
        XCTAssertTrue(read.stdout.contains("response  03 04 40 00 00 00"), read.stdout)
        XCTAssertTrue(read.stdout.contains("float32 abcd: 2.0"), read.stdout)
        // --json carries everything the table shows: the decoded value, typed, and the registers.
        let readJSON = try XCTUnwrap(try agent.json(["diag", "read", "--bus", "sim", "--unit", "1", "--register", "40003", "--type", "float32"]) as? [String: Any])
        let decoded = try XCTUnwrap(readJSON["decoded"] as? [String: Any], "\(readJSON)")
        XCTAssertEqual(decoded["type"] as? String, "float32")
        XCTAssertEqual(decoded["order"] as? String, "abcd")
        XCTAssertEqual(decoded["values"] as? [Double], [2.0])
        XCTAssertEqual(readJSON["unit"] as? Int, 1)
        XCTAssertEqual(readJSON["address"] as? Int, 2)
        XCTAssertEqual((readJSON["registers"] as? [[String: Any]])?.map { $0["register"] as? String }, ["40003", "40004"])
        XCTAssertEqual((readJSON["registers"] as? [[String: Any]])?.first?["hex"] as? String, "4000")
        let viaTCP = try XCTUnwrap(try agent.json(["diag", "read", "--tcp", "127.0.0.1:\(port)", "--unit", "1", "--address", "0", "--count", "11"]) as? [String: Any])
        XCTAssertEqual(viaTCP["path"] as? String, "bus sim (through the agent)")

        // mbpoll, a client we did not write, sees the same registers.
        let mbpoll = try requirePeer("mbpoll")
        let theirs = try runCommand(mbpoll, ["-m", "tcp", "-p", String(port), "-a", "1", "-r", "1", "-c", "11", "-t", "4:hex", "-1", "127.0.0.1"])
        let theirWords = theirs.stdout.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("["), let hex = line.split(separator: "\t").last, hex.hasPrefix("0x") else { return nil }
            return Int(hex.dropFirst(2), radix: 16)
        }
        XCTAssertEqual(viaTCP["words"] as? [Int], theirWords)

        // A unit that is not there: exit 3, with the timeout named.
        let silent = try agent.vigil(["diag", "read", "--bus", "sim", "--unit", "7", "--address", "0", "--timeout-ms", "100"])
        XCTAssertEqual(silent.status, 3)
        XCTAssertTrue(silent.stdout.contains("error     timeout"), silent.stdout)
        // An exception answer: exit 3, and the exception's PDU.
        let refused = try agent.vigil(["diag", "read", "--bus", "sim", "--unit", "1", "--address", "900"])
        XCTAssertEqual(refused.status, 3)
        XCTAssertTrue(refused.stdout.contains("response  83 02"), refused.stdout)

        // scan finds exactly the two simulated units.
        // 300 ms each: a loaded test machine must not lose the units that are there.
        let scan = try XCTUnwrap(try agent.json(["diag", "scan", "--bus", "sim", "--units", "1-5", "--timeout-ms", "300"]) as? [[String: Any]])
        XCTAssertEqual(scan.map { $0["unit"] as? Int }, [1, 2])

        // frames: the worker's polls and the diagnostics, in hex.
        let frames = try XCTUnwrap(try agent.json(["diag", "frames", "--bus", "sim"]) as? [[String: Any]])
        XCTAssertTrue(frames.contains { $0["origin"] as? String == "gas-1" && ($0["request"] as? String)?.hasPrefix("03 00 00 00 0B") == true })
        XCTAssertTrue(frames.contains { $0["origin"] as? String == "diag" })

        // watch refreshes the device's values.
        let watch = try agent.vigil(["diag", "watch", "level-1", "--count", "2", "--interval", "0.2"])
        XCTAssertEqual(watch.status, 0)
        XCTAssertEqual(watch.stdout.components(separatedBy: "level-1 at ").count, 3, watch.stdout)
        // --json: JSON Lines, one document per refresh, values typed.
        let watchJSON = try agent.vigil(["diag", "watch", "level-1", "--count", "2", "--interval", "0.2", "--json"])
        XCTAssertEqual(watchJSON.status, 0, watchJSON.stderr)
        let refreshes = watchJSON.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(refreshes.count, 2, watchJSON.stdout)
        for refresh in refreshes {
            XCTAssertEqual(refresh?["device"] as? String, "level-1", watchJSON.stdout)
            let level = (refresh?["values"] as? [[String: Any]])?.first { $0["point"] as? String == "level" }
            XCTAssertNotNil(level?["value"] as? Double, watchJSON.stdout)
        }

        // queue, alarms, gpio.
        let queue = try XCTUnwrap(try agent.json(["queue"]) as? [String: Any])
        XCTAssertNotNil(queue["pending_telemetry"])
        let peek = try XCTUnwrap(try agent.json(["queue", "peek", "3"]) as? [String: Any])
        XCTAssertLessThanOrEqual((peek["records"] as? [Any])?.count ?? 99, 3)
        XCTAssertEqual(try agent.vigil(["queue", "dead-letters"]).status, 0)
        XCTAssertEqual(try agent.vigil(["queue", "dead-letters", "delete", "x.json"]).status, 2, "needs --yes")
        let alarms = try XCTUnwrap(try agent.json(["alarms"]) as? [String: Any])
        XCTAssertEqual((alarms["active"] as? [Any])?.count, 0)
        let ack = try agent.vigil(["alarm", "ack", "gas-1/gas/high"])
        XCTAssertEqual(ack.status, 1)
        XCTAssertTrue(ack.stderr.contains("no unacknowledged active alarm gas-1/gas/high"), ack.stderr)
        XCTAssertEqual(try agent.vigil(["alarm", "ack", "gas-1"]).status, 2)
        XCTAssertEqual(try agent.vigil(["gpio"]).status, 0)
        XCTAssertEqual(try agent.vigil(["gpio", "set", "siren", "on"]).status, 2, "needs --yes")
        XCTAssertEqual(try agent.vigil(["gpio", "set", "siren", "on", "--yes"]).status, 2, "no such output")
        XCTAssertEqual(try agent.vigil(["uplink", "test"]).status, 2, "stdout has no upstream to test")

        // A write needs --yes; the simulator refuses writes (exception), exit 3.
        XCTAssertEqual(try agent.vigil(["diag", "write", "--bus", "sim", "--address", "0", "--values", "1"]).status, 2)

        // Scripts speak the protocol too: garbage and unknown commands get a clear error, the agent stays up.
        let socat = try requirePeer("socat")
        let raw = try runCommand("/bin/sh", ["-c", "printf 'garbage\\n{\"command\":\"nope\"}\\n{\"command\":\"queue\"}\\n' | \(socat) -t 2 - UNIX-CONNECT:\(agent.socket)"])
        let replies = raw.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(replies.count, 3, raw.stdout + raw.stderr)
        XCTAssertEqual(replies.map { $0["ok"] as? Bool }, [false, false, true])
        XCTAssertTrue((replies[0]["error"] as? String ?? "").hasPrefix("not a control request"), "\(replies[0])")
        XCTAssertEqual(replies[1]["error"] as? String, "unknown command \"nope\"")
        XCTAssertEqual(replies[1]["code"] as? Int, 2)

        // bundle: a tar.gz with the status, frames and versions.
        let bundle = try agent.vigil(["bundle", "--config", "\(agent.dir)/vigil.json5", "--out", "\(agent.dir)/b.tar.gz"])
        XCTAssertEqual(bundle.status, 0, bundle.stderr)
        let listing = try runCommand("/bin/tar", ["tzf", "\(agent.dir)/b.tar.gz"]).stdout
        for file in ["config.json5", "status.json", "frames-sim.json", "versions.txt", "values.json"] {
            XCTAssertTrue(listing.contains("/\(file)"), listing)
        }
        XCTAssertFalse(agent.process.stderr.contains(" error: "), "no errors logged by the agent: \(agent.process.stderr)")
    }

    func testWritesGoThroughTheAgentAndAreLoggedWithWhoAsked() throws {
        let port = freeTCPPort()
        let server = try startPymodbus(tcpPort: port, registers: ["holding": ["0": [0, 0, 0, 0]]])
        defer { server.stop() }
        let agent = try startAgent(buses: "{ id: 'plc', kind: 'tcp', host: '127.0.0.1', port: \(port) }",
                                   devices: "{ id: 'regs', bus: 'plc', unit: 1, points: [{ id: 'setpoint', table: 'holding', address: 0, type: 'float32' }], interval_ms: 200 }")
        defer { agent.process.stop() }
        let write = try agent.vigil(["diag", "write", "--bus", "plc", "--address", "0", "--value", "12.5", "--type", "float32", "--yes"])
        XCTAssertEqual(write.status, 0, write.stdout + write.stderr)
        XCTAssertTrue(write.stdout.contains("request   10 00 00 00 02 04 41 48 00 00"), write.stdout)
        XCTAssertTrue(eventually(timeout: 3) {
            ((try? agent.json(["values", "regs"])) as? [[String: Any]])?.first?["value"] as? Double == 12.5
        }, "the agent's own polls read back what was written")
        XCTAssertTrue(eventually(timeout: 2) { agent.process.stderr.contains("control: uid \(getuid())") }, agent.process.stderr)
        XCTAssertTrue(agent.process.stderr.contains("writes holding 0 = [16712, 0] on unit 1, bus plc"), agent.process.stderr)
        let coils = try agent.vigil(["diag", "write", "--bus", "plc", "--table", "coil", "--address", "0", "--values", "2", "--yes"])
        XCTAssertEqual(coils.status, 2, "coils take 0 or 1")

        // A second agent given the same socket does not take it over, and leaves it in place when it stops.
        let other = temporaryDirectory()
        try """
            { gateway: { id: 'gw-other', state_dir: '\(other)/state' }, buses: [{ id: 'plc', kind: 'tcp', host: '127.0.0.1', port: \(port) }],
              devices: [{ id: 'regs', bus: 'plc', unit: 1, points: [{ id: 'x', register: 40001 }] }], control: { socket: '\(agent.socket)' } }
            """.write(toFile: "\(other)/vigil.json5", atomically: true, encoding: .utf8)
        let second = try PeerProcess(Repo.vigil, ["run", "--config", "\(other)/vigil.json5"])
        XCTAssertTrue(second.waitFor("another vigil agent answers on it", timeout: 5), second.stderr)
        second.signal(SIGTERM)
        XCTAssertEqual(second.stop(timeout: 5), 0)
        let status = try XCTUnwrap(try agent.json(["status"]) as? [String: Any])
        XCTAssertEqual(status["gateway"] as? String, "gw-ctl", "the first agent still answers")
    }

    func testDiagReadThroughTheAgentSharesAnRTULineWithoutCollisions() throws {
        let line = try SerialLinePair()
        let server = try startPymodbus(serial: line.deviceSide, unit: 3, registers: ["holding": ["0": Array(100..<120)]])
        defer { server.stop() }
        let agent = try startAgent(buses: "{ id: 'rs485', kind: 'rtu', device: '\(line.agentSide)', baud: 9600, timeout_ms: 1000 }",
                                   devices: "{ id: 'plc', bus: 'rs485', unit: 3, points: [{ id: 'a', table: 'holding', address: 0, type: 'uint16' }, { id: 'b', table: 'holding', address: 10, type: 'uint16' }], interval_ms: 20 }")
        defer { agent.process.stop() }
        XCTAssertTrue(eventually(timeout: 5) { ((try? agent.json(["status"])) as? [String: Any]).flatMap { ($0["devices"] as? [[String: Any]])?.first?["state"] as? String } == "online" })
        // Three technicians at once, 100 requests each, while the agent polls every 20 ms.
        let client = ControlClient(socket: agent.socket)
        let wrong = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 3) { worker in
            for i in 0..<100 {
                var request = ControlRequest("probe")
                request.bus = "rs485"
                let address = (worker * 7 + i) % 18
                request.probe = ModbusProbe(operation: .read, unit: 3, table: .holding, address: address, count: 2)
                do {
                    let answer = try client.send(request, as: ProbeAnswer.self)
                    if answer.words != [UInt16(100 + address), UInt16(101 + address)] {
                        wrong.withLock { $0.append("\(address): \(answer)") }
                    }
                } catch {
                    wrong.withLock { $0.append("\(error)") }
                }
            }
        }
        XCTAssertEqual(wrong.withLock { $0 }, [], "every request answered with its own registers")
        // The CLI's --rtu on the agent's line goes through the agent, not a second open.
        let cli = try agent.vigil(["diag", "read", "--rtu", line.agentSide, "--unit", "3", "--address", "4", "--json"])
        let answer = try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(answer?["path"] as? String, "bus rs485 (through the agent)")
        XCTAssertEqual(answer?["words"] as? [Int], [104])
        // The same line by other names — a /dev/serial/by-id style symlink, the pty's real path — is still the agent's.
        let byID = "\(agent.dir)/usb-FTDI_FT232R_USB_UART-if00-port0"
        try FileManager.default.createSymbolicLink(atPath: byID, withDestinationPath: line.agentSide)
        let realPTY = try FileManager.default.destinationOfSymbolicLink(atPath: line.agentSide)
        XCTAssertTrue(realPTY.hasPrefix("/dev/pts/"), realPTY)
        for name in [byID, realPTY] {
            let other = try agent.vigil(["diag", "read", "--rtu", name, "--unit", "3", "--address", "5", "--json"])
            let otherAnswer = try JSONSerialization.jsonObject(with: Data(other.stdout.utf8)) as? [String: Any]
            XCTAssertEqual(otherAnswer?["path"] as? String, "bus rs485 (through the agent)", "\(name): \(other.stdout)\(other.stderr)")
            XCTAssertEqual(otherAnswer?["words"] as? [Int], [105])
        }
        let status = try XCTUnwrap(try agent.json(["status"]) as? [String: Any])
        let bus = try XCTUnwrap((status["buses"] as? [[String: Any]])?.first)
        XCTAssertEqual(bus["failed_requests"] as? Int, 0, "no timeout or CRC error on the agent's side: \(bus)")
        XCTAssertGreaterThan(bus["polls"] as? Int ?? 0, 20, "polling went on")
        XCTAssertFalse(server.stderr.lowercased().contains("crc"), server.stderr)
        XCTAssertFalse(server.stderr.lowercased().contains("error"), server.stderr)
    }

    /// A device server's line is the agent's too: diagnostics by bus, or by its address
    /// (`localhost` is the same line as 127.0.0.1), go through the agent's worker.
    func testDiagThroughTheAgentOnARTUOverTCPBus() throws {
        let port = freeTCPPort()
        let server = try startPymodbus(rtuOverTCPPort: port, unit: 4, registers: ["holding": ["0": Array(200..<210)]])
        defer { server.stop() }
        let agent = try startAgent(buses: "{ id: 'dtu', kind: 'rtu-over-tcp', host: '127.0.0.1', port: \(port), timeout_ms: 1000 }",
                                   devices: "{ id: 'well', bus: 'dtu', unit: 4, points: [{ id: 'a', table: 'holding', address: 0, type: 'uint16' }], interval_ms: 100 }")
        defer { agent.process.stop() }
        XCTAssertTrue(eventually(timeout: 5) {
            ((try? agent.json(["values", "well"])) as? [[String: Any]])?.first?["value"] as? Int == 200
        }, agent.process.stderr)
        let status = try XCTUnwrap(try agent.json(["status"]) as? [String: Any])
        XCTAssertEqual((status["buses"] as? [[String: Any]])?.first?["endpoint"] as? String, "rtu-over-tcp://127.0.0.1:\(port)")
        for route in [["--bus", "dtu"], ["--rtu-over-tcp", "localhost:\(port)"]] {
            let cli = try agent.vigil(["diag", "read"] + route + ["--unit", "4", "--address", "3", "--json"])
            let answer = try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any]
            XCTAssertEqual(answer?["path"] as? String, "bus dtu (through the agent)", "\(route): \(cli.stdout)\(cli.stderr)")
            XCTAssertEqual(answer?["words"] as? [Int], [203])
        }
    }

    func testALineTheConfigNamesIsNotOpenedBesideAnAgentThatDoesNotAnswer() throws {
        let port = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(port)", "--device", "1:qdy30a-level", "--freeze"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        let dir = temporaryDirectory()
        try "{ gateway: { id: 'gw' }, buses: [{ id: 'river', kind: 'tcp', host: '127.0.0.1', port: \(port) }], devices: [] }"
            .write(toFile: "\(dir)/vigil.json5", atomically: true, encoding: .utf8)
        let away = ["--socket", "\(dir)/no-agent.sock", "--config", "\(dir)/vigil.json5"]
        // `localhost` is the config's 127.0.0.1: refused, with the way out named.
        let refused = try runCommand(Repo.vigil, ["diag", "read", "--tcp", "localhost:\(port)", "--address", "4"] + away)
        XCTAssertEqual(refused.status, 1, refused.stdout)
        XCTAssertTrue(refused.stderr.contains("is bus river in \(dir)/vigil.json5, but the agent does not answer"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--direct"), refused.stderr)
        XCTAssertEqual(refused.stdout, "", "nothing was sent")
        // --direct: the technician says the agent is stopped.
        let direct = try runCommand(Repo.vigil, ["diag", "read", "--tcp", "localhost:\(port)", "--address", "4", "--direct", "--json"] + away)
        XCTAssertEqual(direct.status, 0, direct.stderr)
        XCTAssertTrue(direct.stdout.contains("(direct)"), direct.stdout)
        // A line the config does not name is opened directly without asking.
        let otherPort = freeTCPPort()
        let other = try runCommand(Repo.vigil, ["diag", "read", "--tcp", "127.0.0.1:\(otherPort)", "--address", "4", "--timeout-ms", "200"] + away)
        XCTAssertFalse(other.stderr.contains("does not answer on"), other.stderr)
        XCTAssertTrue(other.stdout.contains("(direct)") || other.stderr.contains("127.0.0.1:\(otherPort)"), other.stdout + other.stderr)
    }

    func testAWrongTokenHoldsEverythingUntilItIsFixedAndDeadLettersAreManaged() throws {
        let simPort = freeTCPPort(), receiverPort = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(simPort)", "--device", "1:qdy30a-level"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        let dir = temporaryDirectory()
        try "right-token\n".write(toFile: "\(dir)/receiver-token", atomically: true, encoding: .utf8)
        try "wrong-token\n".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        chmod("\(dir)/token", 0o600)
        let receiver = try PeerProcess(Repo.vigil, ["receive", "--listen", "127.0.0.1:\(receiverPort)", "--out", "\(dir)/out.jsonl", "--token-file", "\(dir)/receiver-token"])
        XCTAssertTrue(receiver.waitFor("listening"))
        defer { receiver.stop() }
        // The agent's token is wrong: 401. Nothing is set aside: the batches wait in the journal.
        let agent = try startAgent(buses: "{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(simPort) }",
                                   devices: "{ id: 'level-1', bus: 'sim', unit: 1, profile: 'qdy30a-level', interval_ms: 100 }",
                                   extra: ", uplink: { kind: 'http', url: 'http://127.0.0.1:\(receiverPort)/ingest', token_file: '\(dir)/token', flush_ms: 200 }")
        defer { agent.process.stop() }
        func letters() -> [String] {
            (((try? agent.json(["queue", "dead-letters"])) as? [String: Any])?["letters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        func uplinkState() -> String? { ((try? agent.json(["status"]) as? [String: Any])?["uplink"] as? [String: Any])?["state"] as? String }
        XCTAssertTrue(eventually(timeout: 10) { uplinkState() == "authentication refused" }, "\(uplinkState() ?? "nil") \(agent.process.stderr)")
        XCTAssertEqual(letters(), [], "a refused token is not a refused batch")
        XCTAssertTrue(agent.process.stderr.contains("authentication refused (HTTP 401"), agent.process.stderr)
        let refused = try agent.vigil(["uplink", "test"])
        XCTAssertEqual(refused.status, 3, refused.stdout + refused.stderr)
        XCTAssertTrue(refused.stdout.contains("HTTP 401"), refused.stdout)
        XCTAssertTrue(refused.stdout.contains("name resolution"), refused.stdout)

        // The token is fixed on site, no reload: the next try uses it and everything held arrives, from the first record.
        try "right-token\n".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        XCTAssertTrue(eventually(timeout: 30) { uplinkState() == "ok" }, agent.process.stderr)
        let ok = try XCTUnwrap(try agent.json(["uplink", "test"]) as? [String: Any])
        XCTAssertEqual(ok["http_status"] as? Int, 204, "vigil receive answers a stored heartbeat 204 No Content")
        XCTAssertEqual(ok["outcome"] as? String, "delivered")
        XCTAssertGreaterThan(ok["total_ms"] as? Double ?? 0, 0)
        XCTAssertEqual(ok["batch_version"] as? Int, 2, "vigil receive asks for version 2 of the batch body")
        XCTAssertTrue(try agent.vigil(["uplink", "test"]).stdout.contains("batches in version 2 of the body"))
        func delivered() -> [[String: Any]] {
            ((try? String(contentsOfFile: "\(dir)/out.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
        XCTAssertTrue(eventually(timeout: 10) { delivered().contains { $0["event"] as? String == "device_online" } }, "the first event, held through the 401s")
        XCTAssertEqual(delivered().compactMap { $0["seq"] as? Int }.min(), 1)

        // Dead letters (a batch refused for its content) are listed, sent again and deleted through the agent.
        let deadLetters = "\(agent.dir)/state/dead-letter"
        try FileManager.default.createDirectory(atPath: deadLetters, withIntermediateDirectories: true)
        for seq in [900001, 900002, 900003, 900004] {
            try """
                {"gateway":"gw-ctl","batch":"gw-ctl-\(seq)-\(seq)","readings":[{"seq":\(seq),"ts":"2026-01-01T00:00:00.000Z","device":"level-1","point":"level","value":1.5,"quality":"good"}],"events":[]}
                """.write(toFile: "\(deadLetters)/gw-ctl-\(seq)-\(seq).json", atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(letters().count, 4)
        XCTAssertEqual((try agent.json(["status"]) as? [String: Any]).flatMap { ($0["uplink"] as? [String: Any])?["dead_letters"] as? Int }, 4,
                       "counted from the directory: they survive restarts")
        let retry = try agent.vigil(["queue", "dead-letters", "retry", "gw-ctl-900001-900001.json"])
        XCTAssertEqual(retry.status, 0, retry.stderr)
        XCTAssertTrue(retry.stdout.contains("delivered gw-ctl-900001-900001.json"), retry.stdout)
        XCTAssertTrue(eventually(timeout: 5) { delivered().contains { $0["seq"] as? Int == 900001 } })
        XCTAssertEqual(try agent.vigil(["queue", "dead-letters", "delete", "gw-ctl-900002-900002.json", "--yes"]).status, 0)
        let all = try agent.vigil(["queue", "dead-letters", "retry", "--all"])
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertTrue(all.stdout.contains("delivered 2 dead letter(s)"), all.stdout)
        XCTAssertTrue(eventually(timeout: 5) { Set(delivered().compactMap { $0["seq"] as? Int }).isSuperset(of: [900003, 900004]) })
        XCTAssertEqual(letters(), [])
        XCTAssertTrue(agent.process.stderr.contains("control: uid \(getuid())"), agent.process.stderr)
        XCTAssertTrue(agent.process.stderr.contains("deleted dead letter gw-ctl-900002-900002.json"), agent.process.stderr)
    }

    func testGPIOShowsTheBoardsLinesAndReadsThemThroughTheRealLibgpiod() throws {
        // No GPIO chip on a build machine: every request fails in libgpiod, and says so by line.
        let port = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(port)", "--device", "1:qdy30a-level"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        try XCTSkipIf(FileManager.default.fileExists(atPath: "/dev/gpiochip0"), "this machine has a real gpiochip0")
        let board = try startAgent(buses: "{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(port) }",
                                   devices: "{ id: 'sump', bus: 'sim', unit: 1, profile: 'qdy30a-level' }",
                                   extra: ", inputs: [{ id: 'float', line: 'DI1' }], outputs: [{ id: 'pump', line: 'RELAY1' }]",
                                   board: "raspberry-pi-waveshare-rs485-hat")
        let withBoard = board.process
        defer { withBoard.stop() }
        XCTAssertTrue(eventually(timeout: 10) { ((try? board.json(["gpio"])) as? [String: Any]) != nil }, withBoard.stderr)
        let report = try XCTUnwrap(try board.json(["gpio"]) as? [String: Any])
        let lines = try XCTUnwrap(report["board_lines"] as? [[String: Any]])
        XCTAssertEqual(lines.first { $0["label"] as? String == "DI1" }?["used_by"] as? String, "input float")
        XCTAssertEqual(lines.first { $0["label"] as? String == "RELAY1" }?["used_by"] as? String, "output pump")
        XCTAssertNil(lines.first { $0["label"] as? String == "DI2" }?["used_by"] as? String)
        let pump = try XCTUnwrap((report["outputs"] as? [[String: Any]])?.first)
        XCTAssertEqual(pump["state"] as? String, "unknown")
        XCTAssertTrue((pump["error"] as? String ?? "").hasPrefix("RELAY1 (gpiochip0 line 5): cannot"), "\(pump)")
        XCTAssertTrue(eventually(timeout: 5) { withBoard.stderr.contains("gpio input float: DI1 (gpiochip0 line 17): cannot open the chip") }, withBoard.stderr)
        let free = try board.vigil(["gpio", "read", "DI2"])
        XCTAssertEqual(free.status, 3)
        XCTAssertTrue(free.stderr.contains("DI2 (gpiochip0 line 27): cannot open the chip"), free.stderr)
        let watched = try board.vigil(["gpio", "read", "float"])
        XCTAssertEqual(watched.status, 3)
        XCTAssertTrue(watched.stderr.contains("input float: no good reading yet"), watched.stderr)
        XCTAssertEqual(try board.vigil(["gpio", "read", "pump"]).status, 2, "an output is not read as an input")
        XCTAssertEqual(try board.vigil(["gpio", "read", "DI9"]).status, 2)
        let table = try board.vigil(["gpio"])
        XCTAssertTrue(table.stdout.contains("board Raspberry Pi 4/5 + Waveshare RS485 CAN HAT"), table.stdout)
        let status = try XCTUnwrap(try board.json(["status"]) as? [String: Any])
        XCTAssertEqual((status["devices"] as? [[String: Any]])?.first?["state"] as? String, "online", "polling goes on without GPIO")
    }

    func testNoAgentIsAClearFailure() throws {
        let r = try runCommand(Repo.vigil, ["status", "--socket", "/nonexistent/vigil.sock"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("cannot reach the agent at /nonexistent/vigil.sock"), r.stderr)
        XCTAssertEqual(try runCommand(Repo.vigil, ["diag", "read", "--bus", "x"]).status, 2, "no --address: usage")
        let boards = try runCommand(Repo.vigil, ["board", "show", "revolution-pi-conect"])
        XCTAssertEqual(boards.status, 2)
        XCTAssertTrue(boards.stderr.contains("did you mean \"revolution-pi-connect\"?"), boards.stderr)
        let profile = try runCommand(Repo.vigil, ["profile", "show", "honeywell-xnx"])
        XCTAssertEqual(profile.status, 0)
        XCTAssertTrue(profile.stdout.contains("gas           holding 2       40003    float32 abcd  %LEL         high 25, highhigh 50"), profile.stdout)
        let list = try runCommand(Repo.vigil, ["board", "list", "--json"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any])?.count, 6)
        XCTAssertEqual(try runCommand(Repo.vigil, ["help", "diag", "scan"]).status, 0)
    }

    func testTheRedactionOfASupportBundle() throws {
        let dir = temporaryDirectory()
        try """
            { uplink: { kind: 'http', url: 'https://gw:s3cret@ingest.example.net/v1', token_file: '/etc/vigil/token' },
              mirror: 'https://tb.example.net/api/v1/A1B2C3/telemetry?access_token=zz9&site=north',
              password: 'hunter2' }
            """.write(toFile: "\(dir)/v.json5", atomically: true, encoding: .utf8)
        let r = try runCommand(Repo.vigil, ["bundle", "--config", "\(dir)/v.json5", "--out", "\(dir)/b.tar.gz", "--socket", "\(dir)/none.sock"])
        XCTAssertEqual(r.status, 0, r.stderr)
        _ = try runCommand("/bin/tar", ["xzf", "\(dir)/b.tar.gz", "-C", dir])
        let folder = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasPrefix("vigil-bundle-") })
        let config = try String(contentsOfFile: "\(dir)/\(folder)/config.json5", encoding: .utf8)
        XCTAssertFalse(config.contains("s3cret"), config)
        XCTAssertFalse(config.contains("hunter2"), config)
        XCTAssertFalse(config.contains("zz9") || config.contains("A1B2C3"), "tokens in a URL's path or query: \(config)")
        XCTAssertTrue(config.contains("site=north"), config)
        XCTAssertTrue(config.contains("token_file: '/etc/vigil/token'"), "a path is not a secret: \(config)")
        let notes = try String(contentsOfFile: "\(dir)/\(folder)/NOTES.txt", encoding: .utf8)
        XCTAssertTrue(notes.contains("the agent did not answer"), notes)
        let versions = try String(contentsOfFile: "\(dir)/\(folder)/versions.txt", encoding: .utf8)
        XCTAssertTrue(versions.contains("libmodbus 3."), versions)
    }
}

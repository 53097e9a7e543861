import Foundation
import XCTest
import VigilCore
@testable import VigilAgent
import VigilAgentTestSupport
import VigilTestSupport

/// The bus worker against pymodbus (a server we did not write).
final class BusWorkerTests: XCTestCase {
    nonisolated(unsafe) static let registers: [String: [String: [Any]]] = [
        // gas float32 23.375, temp int16 -100 (× 0.1), 4 decimals, level 1234 → 0.1234
        "holding": ["0": [0x41BB, 0x0000, 0xFF9C, 4, 1234]],
        "input": ["0": [7]],
        "coil": ["0": [true]],
        "discrete": ["0": [false]],
    ]

    static let points: [PointSpec] = {
        var level = PointSpec(id: "level", table: .holding, address: 4, type: .int16)
        level.decimalsFrom = "decimals"
        return [
            PointSpec(id: "gas", table: .holding, address: 0, type: .float32, unit: "%LEL"),
            PointSpec(id: "temp", table: .holding, address: 2, type: .int16, scale: 0.1),
            PointSpec(id: "decimals", table: .holding, address: 3, type: .uint16),
            level,
            PointSpec(id: "count", table: .input, address: 0, type: .uint16),
            PointSpec(id: "relay", table: .coil, address: 0, type: .bool),
            PointSpec(id: "contact", table: .discrete, address: 0, type: .bool),
            // Not served: a block of its own (beyond max_gap) that fails with an exception.
            PointSpec(id: "missing", table: .holding, address: 100, type: .uint16),
        ]
    }()

    func worker(_ transport: BusTransport, unit: Int = 1, intervalMs: Int = 100, offlineAfter: Int = 2, timeoutMs: Int = 500, sink: CollectingSink) -> BusWorker {
        let bus = BusSpec(id: "bus1", transport: transport, timeoutMs: timeoutMs, retries: 0)
        let device = DeviceSpec(id: "dev1", bus: "bus1", unit: unit, points: Self.points, intervalMs: intervalMs, offlineAfter: offlineAfter)
        return BusWorker(bus: bus, devices: [device], sink: sink)
    }

    func assertDecoded(_ sink: CollectingSink, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(sink.latest("dev1", "gas")?.value, .float(23.375), file: file, line: line)
        XCTAssertEqual(sink.latest("dev1", "gas")?.raw.hex, "41bb 0000", file: file, line: line)
        XCTAssertEqual(sink.latest("dev1", "gas")?.unit, "%LEL", file: file, line: line)
        XCTAssertEqual(sink.latest("dev1", "temp")?.value, .double(-10), file: file, line: line)
        XCTAssertEqual(sink.latest("dev1", "level")?.value, .double(0.1234), file: file, line: line)
        XCTAssertEqual(sink.latest("dev1", "count")?.value, .uint(7), file: file, line: line)
        XCTAssertEqual(sink.latest("dev1", "relay")?.value, .bool(true), file: file, line: line)
        XCTAssertEqual(sink.latest("dev1", "contact")?.value, .bool(false), file: file, line: line)
        XCTAssertEqual(sink.latest("dev1", "missing")?.quality, .bad, file: file, line: line)
        XCTAssertEqual(sink.latest("dev1", "missing")?.error, "exception 2 (illegal data address)", file: file, line: line)
        XCTAssertEqual(sink.latest("dev1", "gas")?.quality, .good, file: file, line: line)
    }

    func testPollsEveryTableOverTCPAndAFailedBlockFailsOnlyItsPoints() throws {
        let port = freeTCPPort()
        let server = try startPymodbus(tcpPort: port, registers: Self.registers)
        defer { server.stop() }
        let sink = CollectingSink()
        let w = worker(.tcp(host: "127.0.0.1", port: port), sink: sink)
        w.start()
        defer { w.stop() }
        XCTAssertTrue(eventually { sink.readings(of: "dev1", point: "missing").count >= 2 })
        assertDecoded(sink)
        XCTAssertEqual(sink.events.first?.kind, .deviceOnline, "the device answered (an exception is an answer)")
        XCTAssertFalse(sink.events.contains { $0.kind == .deviceOffline })
    }

    func testPollsOverRTUOnASocatLine() throws {
        let line = try SerialLinePair()
        let server = try startPymodbus(serial: line.deviceSide, unit: 3, registers: Self.registers)
        defer { server.stop() }
        let sink = CollectingSink()
        let w = worker(.rtu(SerialSettings(device: line.agentSide, baud: 9600)), unit: 3, intervalMs: 200, sink: sink)
        w.start()
        defer { w.stop() }
        XCTAssertTrue(eventually(timeout: 15) { sink.readings(of: "dev1", point: "missing").count >= 2 })
        assertDecoded(sink)
        XCTAssertEqual(w.counters.failedRequests, sink.readings(of: "dev1", point: "missing").count, "only the unserved block fails")
    }

    func testGoesOfflineWhenTheServerStopsAndReconnectsWhenItReturns() throws {
        let port = freeTCPPort()
        try assertGoesOfflineAndReconnects(.tcp(host: "127.0.0.1", port: port)) { try startPymodbus(tcpPort: port, registers: Self.registers) }
    }

    /// A serial device server (a 4G DTU) that drops off the network and comes back.
    func testADeviceServerThatGoesAwayIsReconnectedLikeATCPBus() throws {
        let port = freeTCPPort()
        try assertGoesOfflineAndReconnects(.rtuOverTCP(host: "127.0.0.1", port: port, gapMs: 4)) {
            try startPymodbus(rtuOverTCPPort: port, registers: Self.registers)
        }
    }

    func assertGoesOfflineAndReconnects(_ transport: BusTransport, startServer: () throws -> PeerProcess) throws {
        var server = try startServer()
        let sink = CollectingSink()
        let w = worker(transport, intervalMs: 100, offlineAfter: 2, timeoutMs: 300, sink: sink)
        w.start()
        defer { w.stop() }
        XCTAssertTrue(eventually { sink.readings(of: "dev1", point: "gas").contains { $0.quality == .good } })
        server.stop()
        XCTAssertTrue(eventually(timeout: 15) { sink.events.contains { $0.kind == .deviceOffline } }, "\(sink.events)")
        XCTAssertEqual(sink.latest("dev1", "gas")?.quality, .bad)
        server = try startServer()
        defer { server.stop() }
        XCTAssertTrue(eventually(timeout: 20) { sink.events.filter { $0.kind == .deviceOnline }.count == 2 }, "\(sink.events)")
        XCTAssertTrue(eventually { sink.latest("dev1", "gas")?.quality == .good })
        XCTAssertGreaterThanOrEqual(w.counters.reconnects, 1)
        let kinds = sink.events.map(\.kind)
        XCTAssertEqual(kinds.filter { $0 != .busFailed && $0 != .busRecovered }, [.deviceOnline, .deviceOffline, .deviceOnline])
    }

    func testGarbageAnswersMarkPointsBadAndTheWorkerGoesOn() throws {
        try assertGarbageIsNamed { line in .rtu(SerialSettings(device: line.agentSide, baud: 9600)) }
    }

    /// The same broken device behind a serial device server (RTU over TCP): garbage in a
    /// TCP stream is drained and named, and the worker goes on.
    func testGarbageThroughADeviceServerIsNamedAndTheWorkerGoesOn() throws {
        var server: SerialDeviceServer?
        try assertGarbageIsNamed { line in
            server = try SerialDeviceServer(line: line)
            return .rtuOverTCP(host: "127.0.0.1", port: server!.port, gapMs: 4)
        }
    }

    /// A device on `line` answering every request with garbage (garbage_responder.py), polled over `transport`.
    func assertGarbageIsNamed(_ transport: (SerialLinePair) throws -> BusTransport) throws {
        let python = try requirePymodbus()
        let line = try SerialLinePair()
        let responder = try PeerProcess(python, [Repo.peerScript("garbage_responder.py"), line.deviceSide])
        defer { responder.stop() }
        XCTAssertTrue(responder.waitFor("ready"))
        let sink = CollectingSink()
        // Never offline here (so not demoted to a poll every 10 s): the garbage itself is what is tested.
        let w = worker(try transport(line), intervalMs: 100, offlineAfter: 1000, timeoutMs: 300, sink: sink)
        w.start()
        defer { w.stop() }
        XCTAssertTrue(eventually(timeout: 20) { sink.readings(of: "dev1", point: "gas").count >= 6 }, "the worker keeps polling")
        let gas = sink.readings(of: "dev1", point: "gas")
        XCTAssertTrue(gas.allSatisfy { $0.quality == .bad && $0.value == nil })
        let errors = Set(gas.compactMap(\.error))
        XCTAssertTrue(errors.contains("bad CRC"), "\(errors)")
        XCTAssertTrue(errors.contains("response from the wrong unit id") || errors.contains("timeout"), "\(errors)")
        XCTAssertGreaterThanOrEqual(errors.count, 2, "each kind of garbage is named: \(errors)")
        XCTAssertEqual(w.counters.reconnects, 0, "garbage is not a lost connection")
    }

    func testAUSBAdapterThatDisappearsAndReturnsIsReopened() throws {
        var line = try SerialLinePair()
        var server = try startPymodbus(serial: line.deviceSide, unit: 1, registers: Self.registers)
        let sink = CollectingSink()
        let w = worker(.rtu(SerialSettings(device: line.agentSide, baud: 9600)), intervalMs: 100, offlineAfter: 2, timeoutMs: 300, sink: sink)
        w.start()
        defer { w.stop() }
        XCTAssertTrue(eventually { sink.latest("dev1", "gas")?.quality == .good })
        // Unplug: the pty pair (our adapter) goes away, device node and all.
        let agentSide = line.agentSide
        server.stop()
        line.peer.stop()
        XCTAssertTrue(eventually(timeout: 15) { sink.events.contains { $0.kind == .deviceOffline } }, "\(sink.events)")
        // Plug back in under the same name.
        line = try SerialLinePair(agentSide: agentSide)
        server = try startPymodbus(serial: line.deviceSide, unit: 1, registers: Self.registers)
        defer { server.stop() }
        XCTAssertTrue(eventually(timeout: 40) { sink.events.filter { $0.kind == .deviceOnline }.count == 2 }, "\(sink.events)")
        XCTAssertTrue(eventually { sink.latest("dev1", "gas")?.quality == .good })
        XCTAssertGreaterThanOrEqual(w.counters.reconnects, 1)
    }

    func testSerialGapIsKeptBetweenFrames() throws {
        let line = try SerialLinePair()
        let server = try startPymodbus(serial: line.deviceSide, unit: 1, registers: Self.registers)
        defer { server.stop() }
        try assertGapOf60MsIsKept(.rtu(SerialSettings(device: line.agentSide, baud: 115200, gapMs: 60)))
    }

    /// The line behind a device server needs its silence too.
    func testTheGapIsKeptBehindADeviceServer() throws {
        let port = freeTCPPort()
        let server = try startPymodbus(rtuOverTCPPort: port, unit: 1, registers: Self.registers)
        defer { server.stop() }
        try assertGapOf60MsIsKept(.rtuOverTCP(host: "127.0.0.1", port: port, gapMs: 60))
    }

    func assertGapOf60MsIsKept(_ transport: BusTransport) throws {
        let sink = CollectingSink()
        // 5 requests a poll (4 tables + the unserved block), 60 ms of silence before each.
        let bus = BusSpec(id: "bus1", transport: transport, timeoutMs: 500, retries: 0)
        let device = DeviceSpec(id: "dev1", bus: "bus1", unit: 1, points: Self.points, intervalMs: 10)
        let w = BusWorker(bus: bus, devices: [device], sink: sink)
        let start = Date()
        w.start()
        Thread.sleep(forTimeInterval: 2)
        w.stop()
        let elapsed = Date().timeIntervalSince(start)
        let requests = w.counters.requests
        XCTAssertGreaterThan(requests, 5)
        XCTAssertLessThanOrEqual(Double(requests - 1) * 0.060, elapsed, "\(requests) requests in \(elapsed) s break a 60 ms gap")
        XCTAssertGreaterThan(w.counters.overruns, 0, "10 ms polls cannot keep up: overruns are counted, not piled up")
        XCTAssertLessThan(w.counters.polls, Int(elapsed / 0.3) + 2)
    }

    func testAMissingSerialPortFailsItsBusWhileAnotherBusPolls() throws {
        let port = freeTCPPort()
        let server = try startPymodbus(tcpPort: port, registers: Self.registers)
        defer { server.stop() }
        let config = VigilConfig(
            file: "test", gateway: GatewaySpec(id: "gw", stateDir: "/tmp"),
            buses: [BusSpec(id: "serial", transport: .rtu(SerialSettings(device: "/dev/ttyNOPE0", baud: 9600)), timeoutMs: 200),
                    BusSpec(id: "tcp", transport: .tcp(host: "127.0.0.1", port: port))],
            devices: [DeviceSpec(id: "gone", bus: "serial", unit: 1, points: [Self.points[0]], intervalMs: 100, offlineAfter: 2),
                      DeviceSpec(id: "dev1", bus: "tcp", unit: 1, points: Self.points, intervalMs: 100)])
        let sink = CollectingSink()
        let agent = Agent(config: config, sink: sink)
        agent.start()
        defer { agent.stop() }
        XCTAssertTrue(eventually { sink.events.contains { $0.kind == .deviceOffline && $0.device == "gone" } }, "\(sink.events)")
        let failed = sink.events.first { $0.kind == .busFailed }
        XCTAssertEqual(failed?.bus, "serial")
        XCTAssertTrue(failed?.detail?.contains("/dev/ttyNOPE0") ?? false, "\(String(describing: failed))")
        XCTAssertTrue(sink.readings(of: "gone", point: "gas").allSatisfy { $0.quality == .bad && $0.error!.hasPrefix("bus serial down") })
        XCTAssertTrue(eventually { sink.readings(of: "dev1", point: "gas").filter { $0.quality == .good }.count >= 3 })
    }

    /// Rule 1 holds on a reload too: a worker stuck in a call still owns its line, so no second one is started on it.
    func testAReloadDoesNotStartASecondWorkerOnALineWhoseWorkerIsStuck() throws {
        let device = try TricklingDevice(answering: 1)
        defer { device.stop() }
        func config(timeoutMs: Int) -> VigilConfig {
            VigilConfig(file: "test", gateway: GatewaySpec(id: "gw", stateDir: "/tmp"),
                        buses: [BusSpec(id: "slow", transport: .tcp(host: "127.0.0.1", port: device.port), timeoutMs: timeoutMs, retries: 0)],
                        devices: [DeviceSpec(id: "dev1", bus: "slow", unit: 1, points: [Self.points[0]], intervalMs: 100)])
        }
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        let agent = Agent(config: config(timeoutMs: 300), sink: CollectingSink(), log: Logger(threshold: .info, fd: fds[1], clock: ManualWallClock()))
        agent.start()
        XCTAssertTrue(eventually { device.isTrickling })
        let stuck = agent.workers.first!
        XCTAssertEqual(agent.apply(config(timeoutMs: 400)), [], "the stuck bus is not restarted")
        XCTAssertTrue(agent.workers.count == 1 && agent.workers.first === stuck, "the stuck worker keeps its line, and only it")
        var logged = [UInt8](repeating: 0, count: 4096)
        let n = read(fds[0], &logged, logged.count)
        let text = String(decoding: logged.prefix(max(n, 0)), as: UTF8.self)
        XCTAssertTrue(text.contains("bus slow: its worker did not stop; its new settings take effect at the next restart"), text)
        device.stop() // the wedged read fails: the worker can end
        agent.stop()
        close(fds[0]); close(fds[1])
    }
}

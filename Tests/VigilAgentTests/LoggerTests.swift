import Foundation
import XCTest
import VigilAgent
import VigilCore
import VigilTestSupport

final class LoggerTests: XCTestCase {
    /// Writes through a Logger into a pipe and returns what came out.
    private func logged(threshold: Logger.Level, journalStream: Bool, _ body: (Logger) -> Void) throws -> String {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        var st = stat()
        fstat(fds[1], &st)
        if journalStream { setenv("JOURNAL_STREAM", "\(st.st_dev):\(st.st_ino)", 1) } else { unsetenv("JOURNAL_STREAM") }
        defer { unsetenv("JOURNAL_STREAM") }
        let log = Logger(threshold: threshold, fd: fds[1], clock: ManualWallClock())
        body(log)
        close(fds[1])
        let text = String(decoding: FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile(), as: UTF8.self)
        return text
    }

    func testOutsideJournaldEachLineHasItsTimeAndLevel() throws {
        let text = try logged(threshold: .info, journalStream: false) { $0.warning("bus rs485: failed") }
        XCTAssertEqual(text, "\(WallTime(milliseconds: fixtureEpochMs, clockSynced: true).iso8601) warning: bus rs485: failed\n")
    }

    func testUnderJournaldThePriorityPrefixAndNoTime() throws {
        let text = try logged(threshold: .info, journalStream: true) { $0.error("x"); $0.info("y") }
        XCTAssertEqual(text, "<3>x\n<6>y\n")
    }

    func testDebugLinesOnlyAtDebugAndTheirTextIsNotMadeOtherwise() throws {
        var made = 0
        let quiet = try logged(threshold: .info, journalStream: false) { log in log.debug({ made += 1; return "trace" }()) }
        XCTAssertEqual(quiet, "")
        XCTAssertEqual(made, 0, "a debug line's text is not built when nobody will read it")
        let loud = try logged(threshold: .debug, journalStream: false) { $0.debug("trace") }
        XCTAssertTrue(loud.hasSuffix(" debug: trace\n"), loud)
    }

    func testAgentAtDebugTracesEveryModbusRequest() throws {
        let port = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(port)", "--device", "1:qdy30a-level", "--freeze"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        let dir = temporaryDirectory()
        try """
            { gateway: { id: 'gw', state_dir: '\(dir)/state' }, buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(port) }],
              devices: [{ id: 'level-1', bus: 'sim', unit: 1, profile: 'qdy30a-level', interval_ms: 200 }], uplink: { kind: 'stdout' } }
            """.write(toFile: "\(dir)/vigil.json5", atomically: true, encoding: .utf8)
        for (level, traced) in [("info", false), ("debug", true)] {
            let agent = try PeerProcess(Repo.vigil, ["run", "--config", "\(dir)/vigil.json5", "--log-level", level, "--duration", "1.5"])
            XCTAssertTrue(eventually(timeout: 15) { !agent.process.isRunning }, "--duration ends the run")
            XCTAssertEqual(agent.stop(), 0, agent.stderr)
            let trace = agent.stderr.split(separator: "\n").filter { $0.contains(" debug: bus sim unit 1 (level-1): 03 00 02 00 03 -> 03 06 ") }
            XCTAssertEqual(!trace.isEmpty, traced, "--log-level \(level): \(agent.stderr)")
            if traced { XCTAssertTrue(trace.allSatisfy { $0.hasSuffix(" ms") }, "\(trace)") }
        }
    }
}

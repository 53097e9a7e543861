import Foundation
import XCTest
import VigilTestSupport

/// A state_dir on a filesystem that fills up: the gas alarm is still raised,
/// logged and, once the disk takes it, delivered; readings wait in memory.
final class FullDiskTests: XCTestCase {
    /// `vigil simulate` serving an XNX `startAt` seconds into its gas curve, and `vigil run` polling it
    /// every 50 ms with its state_dir on `state`; both stopped when the test ends.
    func startGasSite(stateDir state: String, startAt: Int, uplink: String = "{ kind: 'stdout' }") throws -> (agent: PeerProcess, socket: String) {
        let port = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(port)", "--device", "1:honeywell-xnx", "--start-at", "\(startAt)"])
        addTeardownBlock { sim.stop() }
        XCTAssertTrue(sim.waitFor("serving"))
        let dir = temporaryDirectory()
        try """
            { gateway: { id: 'gw-full', state_dir: '\(state)/vigil' },
              buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(port) }],
              devices: [{ id: 'gas-1', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 50 }],
              journal: { max_bytes: 268435456 },
              control: { socket: '\(dir)/control.sock' },
              uplink: \(uplink) }
            """.write(toFile: "\(dir)/vigil.json5", atomically: true, encoding: .utf8)
        let agent = try PeerProcess(Repo.vigil, ["run", "--config", "\(dir)/vigil.json5"])
        addTeardownBlock { agent.stop() }
        return (agent, "\(dir)/control.sock")
    }

    func testAFullDiskStopsNoAlarm() throws {
        let state = try smallFilesystem("4m", for: self)
        // 9 s into the curve: gas passes 25 %LEL about 6 s later.
        let (agent, socket) = try startGasSite(stateDir: state, startAt: 9)
        XCTAssertTrue(agent.waitFor("is online"), agent.stderr)
        // Fill what is left of the filesystem.
        let fill = try runCommand("/bin/dd", ["if=/dev/zero", "of=\(state)/filler", "bs=64k"])
        XCTAssertNotEqual(fill.status, 0, "dd stops at a full disk")
        XCTAssertTrue(fill.stderr.contains("No space left"), fill.stderr)

        // The alarm is raised and logged though nothing reaches the disk.
        XCTAssertTrue(agent.waitFor("ALARM raised: gas-1 gas high", timeout: 20), agent.stderr)
        XCTAssertTrue(agent.stderr.contains("journal: cannot write readings: "), agent.stderr)
        let environment = ["VIGIL_SOCKET": socket]
        let queue = try runCommand(Repo.vigil, ["queue", "--json"], environment: environment)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(queue.stdout.utf8)) as? [String: Any], queue.stderr)
        XCTAssertTrue((report["write_error"] as? String)?.contains("No space left") == true, "\(report)")
        XCTAssertTrue(try runCommand(Repo.vigil, ["status"], environment: environment).stdout.contains("DISK FULL"))
        let errorLines = agent.stderr.split(separator: "\n").filter { $0.contains("journal: cannot write readings") }
        XCTAssertEqual(errorLines.count, 1, "once a minute, not once a poll")
        // The alarm goes upstream while the disk is still full: from memory, if the disk refused it.
        XCTAssertTrue(eventually(timeout: 10) { agent.stdout.contains("\"event\":\"alarm_raised\"") }, agent.stdout.suffix(2000) + agent.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(state)/filler"))
        let pendingBefore = agent.stdout.split(separator: "\n").count

        // Room again: the held readings are written and forwarded, and the write error clears.
        try FileManager.default.removeItem(atPath: "\(state)/filler")
        let raised = agent.stdout.split(separator: "\n").first { $0.contains("\"event\":\"alarm_raised\"") && $0.contains("\"point\":\"gas\"") }
        XCTAssertNotNil(raised, agent.stdout.suffix(3000) + "")
        var after: [String: Any] = [:]
        XCTAssertTrue(eventually(timeout: 5) {
            let q = try? runCommand(Repo.vigil, ["queue", "--json"], environment: environment)
            after = (q.flatMap { try? JSONSerialization.jsonObject(with: Data($0.stdout.utf8)) as? [String: Any] }) ?? ["write_error": "?"]
            return after["write_error"] == nil
        }, "\(after)")
        // Nothing was lost: the readings of the full disk waited in memory and went upstream after it.
        XCTAssertEqual(after["dropped_telemetry"] as? Int, 0, "\(after)")
        XCTAssertEqual(after["dropped_events"] as? Int, 0, "\(after)")
        let seqs = agent.stdout.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["seq"] as? Int }
        XCTAssertGreaterThan(seqs.count, pendingBefore)
    }

    /// A gateway whose disk filled up while it was off (a fresh state_dir): the agent starts,
    /// raises the gas alarm, and delivers it once there is room.
    func testAnAgentStartedOnAFullDiskRaisesItsAlarmsAndDeliversThemLater() throws {
        let state = try smallFilesystem("4m", for: self)
        let fill = try runCommand("/bin/dd", ["if=/dev/zero", "of=\(state)/filler", "bs=64k"])
        XCTAssertTrue(fill.stderr.contains("No space left"), fill.stderr)
        let (agent, _) = try startGasSite(stateDir: state, startAt: 12)
        XCTAssertTrue(agent.waitFor("ALARM raised: gas-1 gas high", timeout: 20), agent.stderr)
        XCTAssertFalse(agent.stdout.contains("\"alarm_raised\""), "no cursor file could be made, so its seq cannot be reserved: it waits")

        try FileManager.default.removeItem(atPath: "\(state)/filler")
        XCTAssertTrue(eventually(timeout: 10) { agent.stdout.contains("\"event\":\"alarm_raised\"") }, agent.stdout.suffix(2000) + agent.stderr)
        XCTAssertTrue(agent.process.isRunning, agent.stderr)
    }

    /// A disk that refuses even the cursor write that would reserve an alarm event's seq (here:
    /// full before the agent started, so no cursor file could be made; a disk remounted read-only
    /// is the same) holds the event back. The upstream hears of the alarm at once all the same:
    /// the status names the active alarms and the journal's error, and a change of alarms sends
    /// a heartbeat when no batch goes, not after heartbeat_s.
    func testAnAlarmTheDiskHoldsBackReachesTheUpstreamInTheStatusAtOnce() throws {
        let python = try requirePymodbus()
        let port = freeTCPPort()
        let upstream = try PeerProcess(python, [Repo.peerScript("batch_version_upstream.py"), String(port), "take-v2"])
        addTeardownBlock { upstream.stop() }
        XCTAssertTrue(upstream.waitFor("ready"), upstream.stderr)
        let state = try smallFilesystem("4m", for: self)
        let fill = try runCommand("/bin/dd", ["if=/dev/zero", "of=\(state)/filler", "bs=64k"])
        XCTAssertTrue(fill.stderr.contains("No space left"), fill.stderr)
        let (agent, _) = try startGasSite(stateDir: state, startAt: 12, uplink: "{ kind: 'http', url: 'http://127.0.0.1:\(port)/', heartbeat_s: 3600 }")

        XCTAssertTrue(agent.waitFor("ALARM raised: gas-1 gas high", timeout: 20), agent.stderr)
        XCTAssertTrue(eventually(timeout: 5) { upstream.stdout.contains("status alarms=gas-1/") }, upstream.stdout + agent.stderr)
        let statusLine = upstream.stdout.split(separator: "\n").first { $0.hasPrefix("status alarms=gas-1/") } ?? ""
        XCTAssertTrue(statusLine.contains("gas-1/gas/high"), String(statusLine))
        XCTAssertTrue(statusLine.contains("journal_error=") && statusLine.contains("No space left on device"), String(statusLine))
        XCTAssertFalse(upstream.stdout.contains("event alarm_raised gas-1/gas"), "its seq cannot be reserved: the event waits")

        // Room again: the event goes, with its seq, and a later status says the journal writes.
        try FileManager.default.removeItem(atPath: "\(state)/filler")
        XCTAssertTrue(eventually(timeout: 15) { upstream.stdout.contains("event alarm_raised gas-1/gas") }, upstream.stdout.suffix(3000) + agent.stderr)
        XCTAssertTrue(eventually(timeout: 10) { upstream.stdout.split(separator: "\n").last { $0.hasPrefix("status") }?.hasSuffix("journal_error=-") == true },
                      upstream.stdout.suffix(3000) + "")
        XCTAssertTrue(agent.process.isRunning, agent.stderr)
    }

    func testConfigCheckWarnsOfAQuotaTheDiskCannotHold() throws {
        let state = try smallFilesystem("4m", for: self)
        let dir = temporaryDirectory()
        try """
            { gateway: { id: 'gw', state_dir: '\(state)/vigil' }, buses: [], devices: [], journal: { max_bytes: 268435456 } }
            """.write(toFile: "\(dir)/vigil.json5", atomically: true, encoding: .utf8)
        let r = try runCommand(Repo.vigil, ["config", "check", "\(dir)/vigil.json5"])
        XCTAssertEqual(r.status, 0, "a warning, not an error")
        XCTAssertTrue(r.stderr.contains("warning: journal.max_bytes: 256 MiB is more than the 4 MiB filesystem holding \(state)/vigil"), r.stderr)
        try "{ gateway: { id: 'gw', state_dir: '\(state)/vigil' }, buses: [], devices: [], journal: { max_bytes: 2097152, segment_bytes: 262144 } }"
            .write(toFile: "\(dir)/vigil.json5", atomically: true, encoding: .utf8)
        let fits = try runCommand(Repo.vigil, ["config", "check", "\(dir)/vigil.json5"])
        XCTAssertEqual(fits.status, 0, fits.stderr)
        XCTAssertFalse(fits.stderr.contains("max_bytes"), fits.stderr)
    }
}

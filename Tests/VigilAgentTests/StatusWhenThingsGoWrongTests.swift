import Foundation
import XCTest
import VigilTestSupport

/// What `vigil status`, `alarms` and `queue` say, and what the log says, when
/// a bus is down, a device is slow or gone, and the uplink is unreachable.
extension ControlSocketTests {
    func testStatusNamesWhatIsWrong() throws {
        let simPort = freeTCPPort(), deadPort = freeTCPPort(), uplinkPort = freeTCPPort()
        // Gas past 25 %LEL at once; a level transmitter answering in 300 ms, polled every 50 ms.
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(simPort)", "--device", "1:honeywell-xnx", "--device", "2:qdy30a-level:slow:300", "--start-at", "16"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        let agent = try startAgent(
            buses: "{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(simPort), timeout_ms: 1000 }, { id: 'dead', kind: 'tcp', host: '127.0.0.1', port: \(deadPort) }",
            devices: """
                { id: 'gas-1', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 200, offline_after: 2 },
                { id: 'level-1', bus: 'sim', unit: 2, profile: 'qdy30a-level', interval_ms: 50 },
                { id: 'ghost', bus: 'dead', unit: 1, profile: 'qdy30a-level', interval_ms: 500 }
                """,
            extra: ", uplink: { kind: 'http', url: 'http://127.0.0.1:\(uplinkPort)/ingest', flush_ms: 100 }")
        defer { agent.process.stop() }
        func status() -> [String: Any] { ((try? agent.json(["status"])) as? [String: Any]) ?? [:] }
        func rows(_ key: String) -> [String: [String: Any]] {
            Dictionary(((status()[key] as? [[String: Any]]) ?? []).map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        }

        // A bus that cannot open says why on its own row.
        XCTAssertTrue(eventually(timeout: 5) { (rows("buses")["dead"]?["last_error"] as? String)?.contains("refused") == true }, "\(rows("buses"))")
        XCTAssertEqual(rows("buses")["dead"]?["state"] as? String, "down")
        let table = try agent.vigil(["status"]).stdout
        XCTAssertTrue(table.split(separator: "\n").contains { $0.hasPrefix("dead ") && $0.contains("refused") }, table)

        // The slow device cannot be polled every 50 ms: the skipped slots are counted, on its row and its bus's.
        XCTAssertTrue(eventually(timeout: 5) { (rows("devices")["level-1"]?["skipped_slots"] as? Int ?? 0) > 3 }, "\(rows("devices"))")
        XCTAssertGreaterThanOrEqual(rows("buses")["sim"]?["skipped_slots"] as? Int ?? 0, rows("devices")["level-1"]?["skipped_slots"] as? Int ?? 0)
        XCTAssertEqual(rows("devices")["gas-1"]?["skipped_slots"] as? Int, 0)

        // The uplink is down: the backlog's age is the age of its oldest record, not of the newest segment time.
        let backlogStarted = Date()
        Thread.sleep(forTimeInterval: 3)
        let queue = try XCTUnwrap(try agent.json(["queue"]) as? [String: Any])
        let age = try XCTUnwrap(queue["oldest_pending_age_seconds"] as? Double, "\(queue)")
        XCTAssertGreaterThanOrEqual(age, 2.5, "\(queue)")
        XCTAssertLessThanOrEqual(age, Date().timeIntervalSince(backlogStarted) + 10, "\(queue)")

        // The gas alarm is active; when its detector goes silent the alarm is flagged: its state cannot be confirmed.
        XCTAssertTrue(eventually(timeout: 10) { ((try? agent.json(["alarms"])) as? [String: Any]).flatMap { $0["active"] as? [[String: Any]] }?.contains { $0["id"] as? String == "gas-1/gas/high" } == true })
        let online = try XCTUnwrap((try agent.json(["alarms"]) as? [String: Any])?["active"] as? [[String: Any]])
        XCTAssertEqual(online.first { $0["id"] as? String == "gas-1/gas/high" }?["device_offline"] as? Bool, false)
        sim.stop()
        XCTAssertTrue(eventually(timeout: 10) { rows("devices")["gas-1"]?["state"] as? String == "offline" })
        let offline = try XCTUnwrap((try agent.json(["alarms"]) as? [String: Any])?["active"] as? [[String: Any]])
        XCTAssertEqual(offline.first { $0["id"] as? String == "gas-1/gas/high" }?["device_offline"] as? Bool, true)
        XCTAssertTrue(try agent.vigil(["status"]).stdout.contains("gas-1/gas/high (setpoint 25) DEVICE OFFLINE: last known state"))
        XCTAssertTrue(try agent.vigil(["alarms"]).stdout.contains("OFFLINE: last known state"))

        // The uplink comes back: one line says so.
        let receiver = try PeerProcess(Repo.vigil, ["receive", "--listen", "127.0.0.1:\(uplinkPort)", "--out", "\(agent.dir)/out.jsonl"])
        defer { receiver.stop() }
        XCTAssertTrue(eventually(timeout: 30) { agent.process.stderr.contains("/ingest: delivering again after ") }, agent.process.stderr)
        XCTAssertTrue(eventually(timeout: 10) {
            guard let queue = (try? agent.json(["queue"])) as? [String: Any] else { return false }
            return queue["oldest_pending_age_seconds"] == nil || queue["oldest_pending_age_seconds"] is NSNull
        }, "nothing waits once the backlog is delivered")

        // Every "retrying … in N ms" is what the forwarder then waited, though readings kept arriving.
        let attempts = agent.process.stderr.split(separator: "\n").filter { $0.contains("; retrying batch ") }
        XCTAssertGreaterThanOrEqual(attempts.count, 2, agent.process.stderr)
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let timed = attempts.compactMap { line -> (Date, Double)? in
            guard let time = iso.date(from: String(line.prefix(24))), let ms = line.split(separator: " ").dropLast().last.flatMap({ Double($0) }) else { return nil }
            return (time, ms)
        }
        XCTAssertEqual(timed.count, attempts.count, "\(attempts)")
        for (this, next) in zip(timed, timed.dropFirst()) {
            XCTAssertGreaterThanOrEqual(next.0.timeIntervalSince(this.0) * 1000, this.1 - 5, "logged a wait of \(this.1) ms: \(attempts)")
        }
    }
}

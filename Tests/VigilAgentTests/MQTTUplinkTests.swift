import Foundation
import XCTest
import VigilAgent
import VigilCore
import VigilTestSupport
import VigilUplink

/// The MQTT transport against a real broker (mosquitto) with a real
/// subscriber (paho-mqtt) as the judge of what arrived.
final class MQTTUplinkTests: XCTestCase {
    func uplink(_ broker: TestBroker, gateway: String = "gw", configure: (inout MQTTUplinkSpec) -> Void = { _ in }) throws -> MQTTUplink {
        var spec = MQTTUplinkSpec(url: "mqtt://127.0.0.1:\(broker.port)", host: "127.0.0.1", port: broker.port, tls: false)
        spec.batching.timeoutMs = 2000
        configure(&spec)
        return try MQTTUplink(spec: spec, gateway: gateway, format: VigilMessageFormat(gateway: gateway, prefix: spec.topicPrefix))
    }

    func forwarder(_ journal: Journal, _ uplink: MQTTUplink, _ dir: String) -> Forwarder {
        Forwarder(journal: journal, uplink: uplink, gateway: "gw", batchMaxRecords: 200, flushMs: 20, heartbeatSeconds: 3600,
                  deadLetterDirectory: "\(dir)/dead-letter", log: Logger(threshold: .error), uplinkTimeoutMs: 2000)
    }

    func seqs(_ records: [[String: Any]]) -> [Int] { records.compactMap { $0["seq"] as? Int } }

    func testEveryRecordReachesASubscriberEventsFirstAndThePresenceIsRetained() throws {
        let dir = temporaryDirectory()
        let broker = try TestBroker(in: dir)
        let judge = try TestSubscriber(port: broker.port, topic: "vigil/gw/#")
        defer { judge.stop() }
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        try journal.append((1...1000).map { reading($0) } + (1...3).map { event($0) })
        try journal.commit()
        let up = try uplink(broker)
        let forwarder = forwarder(journal, up, dir)
        forwarder.start()
        XCTAssertTrue(eventually { journal.stats.pending.values.reduce(0, +) == 0 }, "\(forwarder.counters)")
        forwarder.stop()
        up.close()
        XCTAssertTrue(eventually { self.seqs(judge.records(lane: "telemetry")).count >= 1000 && judge.records(lane: "events").count >= 3 })
        XCTAssertEqual(Set(seqs(judge.records(lane: "telemetry"))), Set(1...1000), "every reading, once acknowledged")
        XCTAssertEqual(seqs(judge.records(lane: "events")), [1001, 1002, 1003])
        let topics = judge.messages.map(\.topic)
        XCTAssertLessThan(topics.firstIndex(of: "vigil/gw/events")!, topics.firstIndex(of: "vigil/gw/telemetry")!, "events first")
        let presence = judge.messages.filter { $0.topic == "vigil/gw/status" }
        XCTAssertEqual(presence.first?.json?["online"] as? Bool, true, "online announced on connect")
        XCTAssertEqual(presence.last?.json?["online"] as? Bool, false, "offline said on an orderly close")
        // A late subscriber finds the gateway's last presence retained.
        let late = try TestSubscriber(port: broker.port, topic: "vigil/gw/status", clientID: "late")
        defer { late.stop() }
        XCTAssertTrue(eventually { late.messages.contains { $0.retain && $0.json?["online"] as? Bool == false } }, late.peer.stdout)
    }

    func testABrokerThatWithholdsPUBACKsDoesNotAcknowledgeTheBatch() throws {
        let dir = temporaryDirectory()
        let broker = try TestBroker(in: dir)
        let judge = try TestSubscriber(port: broker.port, topic: "vigil/gw/telemetry")
        defer { judge.stop() }
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        let up = try uplink(broker)
        let forwarder = forwarder(journal, up, dir)
        forwarder.start()
        defer { forwarder.stop() }
        XCTAssertTrue(eventually { up.isConnected })
        broker.process!.signal(SIGSTOP) // the socket stays open; no PUBACK comes
        try journal.append((1...50).map { reading($0) })
        try journal.commit()
        Thread.sleep(forTimeInterval: 3)
        XCTAssertEqual(journal.cursor.acked[.telemetry] ?? 0, 0, "written to the socket is not delivered")
        XCTAssertTrue(forwarder.counters.lastError?.contains("PUBACK") ?? false, forwarder.counters.lastError ?? "nil")
        broker.process!.signal(SIGCONT)
        XCTAssertTrue(eventually(timeout: 20) { journal.cursor.acked[.telemetry] == 50 }, "\(forwarder.counters)")
        XCTAssertTrue(eventually { Set(self.seqs(judge.records(lane: "telemetry"))) == Set(1...50) })
    }

    func testABrokerRestartedMidRunLosesNothing() throws {
        let dir = temporaryDirectory()
        let broker = try TestBroker(in: dir)
        let judge = try TestSubscriber(port: broker.port, topic: "vigil/gw/telemetry")
        defer { judge.stop() }
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        let up = try uplink(broker)
        let forwarder = forwarder(journal, up, dir)
        forwarder.start()
        defer { forwarder.stop() }
        var n = 0
        func write(_ count: Int) throws {
            for _ in 0..<count {
                try journal.append((n + 1...n + 20).map { reading($0) })
                try journal.commit()
                n += 20
                usleep(20_000)
            }
        }
        try write(20)
        broker.stop()
        try write(40) // the broker is down for about a second: accepted, kept in the journal
        XCTAssertGreaterThan(journal.stats.pending[.telemetry] ?? 0, 0)
        try broker.start()
        try write(20)
        XCTAssertTrue(eventually(timeout: 30) { journal.stats.pending[.telemetry] == 0 }, "\(forwarder.counters)")
        XCTAssertTrue(eventually(timeout: 15) { Set(self.seqs(judge.records(lane: "telemetry"))) == Set(1...n) },
                      "missing: \(Set(1...n).subtracting(seqs(judge.records(lane: "telemetry"))).sorted().prefix(20))")
        // Twice is allowed (a batch resent after a lost PUBACK), with the same values.
        var values: [Int: String] = [:]
        for record in judge.records(lane: "telemetry") {
            let seq = record["seq"] as! Int, value = "\(record["value"] ?? "nil")"
            if let seen = values[seq] { XCTAssertEqual(seen, value, "seq \(seq) twice with different values") }
            values[seq] = value
        }
    }

    func testRefusedCredentialsHoldTheLaneUntilThePasswordFileIsFixed() throws {
        let dir = temporaryDirectory()
        let broker = try TestBroker(in: dir, passwords: ["gw-7": "right"])
        try "wrong\n".write(toFile: "\(dir)/password", atomically: true, encoding: .utf8)
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        let alarm = Record.event(Event(timestamp: WallTime(milliseconds: fixtureEpochMs, clockSynced: true), kind: .alarmRaised, device: "gas-1"))
        try journal.append([alarm] + (1...10).map { reading($0) })
        try journal.commit()
        let up = try uplink(broker) { $0.username = "gw-7"; $0.passwordFile = "\(dir)/password" }
        let forwarder = forwarder(journal, up, dir)
        forwarder.start()
        defer { forwarder.stop() }
        XCTAssertTrue(eventually { forwarder.counters.authenticationRefused }, "\(forwarder.counters)")
        XCTAssertTrue(forwarder.counters.lastError?.contains("authentication refused") ?? false, forwarder.counters.lastError ?? "nil")
        XCTAssertEqual(forwarder.counters.deadLetters, 0)
        XCTAssertEqual(journal.cursor.acked[.events] ?? 0, 0, "the alarm waits in the journal")
        XCTAssertFalse(forwarder.counters.lastError?.contains("right") ?? false)
        // Fixed on site: the next connection attempt reads the new password.
        try "right\n".write(toFile: "\(dir)/password", atomically: true, encoding: .utf8)
        XCTAssertTrue(eventually(timeout: 20) { journal.stats.pending.values.reduce(0, +) == 0 }, "\(forwarder.counters)")
        XCTAssertFalse(forwarder.counters.authenticationRefused)
    }

    func testAMessageOverTheBrokersMaximumPacketSizeIsSplit() throws {
        let dir = temporaryDirectory()
        let broker = try TestBroker(in: dir, extraConfig: ["max_packet_size 4000"])
        let judge = try TestSubscriber(port: broker.port, topic: "vigil/gw/telemetry")
        defer { judge.stop() }
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        try journal.append((1...300).map { reading($0) })
        try journal.commit()
        let up = try uplink(broker)
        let forwarder = forwarder(journal, up, dir)
        forwarder.start()
        defer { forwarder.stop() }
        XCTAssertTrue(eventually(timeout: 20) { journal.stats.pending[.telemetry] == 0 }, "\(forwarder.counters)")
        XCTAssertEqual(forwarder.counters.deadLetters, 0)
        XCTAssertTrue(eventually { Set(self.seqs(judge.records(lane: "telemetry"))) == Set(1...300) })
        XCTAssertGreaterThan(judge.messages.count, 2, "sent in several smaller messages")
    }
}

extension MQTTUplinkTests {
    func testTLSIsVerifiedByDefaultAndTrustsTheGivenCA() throws {
        let dir = temporaryDirectory()
        let (cert, key) = try makeSelfSignedCertificate(in: dir)
        let broker = try TestBroker(in: dir, tls: .init(ca: cert, cert: cert, key: key))
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        try journal.append((1...5).map { reading($0) })
        try journal.commit()
        let batch = UplinkBatch(gateway: "gw", lane: .telemetry, firstSeq: 1, lastSeq: 5, records: try JournalReader(journal: journal, lane: .telemetry).read(after: 0, maxRecords: 5))
        let status = GatewayStatus(uptimeSeconds: 1, pending: [:], oldestPendingMs: nil, dropped: [:], corruptRecords: 0, deadLetters: 0, devices: [])

        let unverified = try uplink(broker) { $0.tls = true }
        XCTAssertFalse(unverified.waitUntilConnected(timeoutMs: 3000), "a self-signed certificate must not be trusted")
        XCTAssertTrue(unverified.lastError?.contains("TLS") ?? false, unverified.lastError ?? "nil")
        guard case .retry = unverified.send(batch, status: status) else { return XCTFail("nothing is delivered unverified") }
        unverified.close()

        let trusted = try uplink(broker) { $0.tls = true; $0.caFile = cert }
        XCTAssertTrue(trusted.waitUntilConnected(timeoutMs: 5000), trusted.lastError ?? "")
        XCTAssertEqual(trusted.send(batch, status: status), UplinkOutcome.delivered)
        trusted.close()

        let insecure = try uplink(broker) { $0.tls = true; $0.insecure = true }
        XCTAssertTrue(insecure.waitUntilConnected(timeoutMs: 5000), insecure.lastError ?? "")
        XCTAssertEqual(insecure.send(batch, status: status), UplinkOutcome.delivered)
        insecure.close()
    }
}

extension MQTTUplinkTests {
    /// `vigil run` killed again and again while it publishes: after a last,
    /// orderly run every record the journal took has reached the subscriber,
    /// and a record that arrived twice (its PUBACK lost with the process)
    /// arrived with the same content.
    func testAnAgentKilledMidPublishLosesNothing() throws {
        let dir = temporaryDirectory()
        let broker = try TestBroker(in: dir)
        let judge = try TestSubscriber(port: broker.port, topic: "vigil/gw-kill/#")
        defer { judge.stop() }
        let simPort = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(simPort)", "--device", "1:honeywell-xnx", "--device", "2:qdy30a-level"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        try """
            { gateway: { id: 'gw-kill', state_dir: '\(dir)/state' },
              buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(simPort) }],
              devices: [{ id: 'gas', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 10 },
                        { id: 'level', bus: 'sim', unit: 2, profile: 'qdy30a-level', interval_ms: 10 }],
              journal: { commit_ms: 20 },
              control: { socket: '\(dir)/control.sock' },
              uplink: { kind: 'mqtt', url: 'mqtt://127.0.0.1:\(broker.port)', flush_ms: 50, batch_max_records: 100 } }
            """.write(toFile: "\(dir)/vigil.json5", atomically: true, encoding: .utf8)
        var generator = SystemRandomNumberGenerator()
        for cycle in 0..<6 {
            let agent = try PeerProcess(Repo.vigil, ["run", "--config", "\(dir)/vigil.json5"])
            XCTAssertTrue(eventually(timeout: 10) { judge.records(lane: "telemetry").count > cycle * 50 }, "cycle \(cycle): \(agent.stderr)")
            usleep(UInt32.random(in: 100_000...600_000, using: &generator))
            agent.signal(SIGKILL)
            agent.process.waitUntilExit()
        }
        sim.stop()
        let last = try PeerProcess(Repo.vigil, ["run", "--config", "\(dir)/vigil.json5"])
        XCTAssertTrue(eventually(timeout: 20) {
            guard let out = try? runCommand(Repo.vigil, ["queue", "--json", "--socket", "\(dir)/control.sock"]).stdout,
                  let queue = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] else { return false }
            return queue["pending_events"] as? Int == 0 && queue["pending_telemetry"] as? Int == 0
        }, last.stderr)
        last.stop()
        let journal = try Journal(directory: "\(dir)/state/journal")
        XCTAssertEqual(journal.stats.pending.values.reduce(0, +), 0)
        let highest = Int(max(journal.cursor.acked[.telemetry] ?? 0, journal.cursor.acked[.events] ?? 0))
        try journal.close()
        XCTAssertGreaterThan(highest, 300)
        let received = judge.records(lane: "telemetry") + judge.records(lane: "events")
        XCTAssertTrue(eventually(timeout: 10) { Set(self.seqs(judge.records(lane: "telemetry") + judge.records(lane: "events"))).count >= highest })
        let seen = Set(seqs(judge.records(lane: "telemetry") + judge.records(lane: "events")))
        XCTAssertEqual(seen, Set(1...highest), "missing: \(Set(1...highest).subtracting(seen).sorted().prefix(20))")
        var bySeq: [Int: String] = [:]
        for record in received {
            let seq = record["seq"] as! Int
            let text = String(decoding: try JSONSerialization.data(withJSONObject: record, options: .sortedKeys), as: UTF8.self)
            if let seen = bySeq[seq] { XCTAssertEqual(seen, text, "seq \(seq) twice with different content") }
            bySeq[seq] = text
        }
    }
}

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

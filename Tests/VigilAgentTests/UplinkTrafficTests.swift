import Foundation
import XCTest
import VigilLab
import VigilCore
import VigilAgentTestSupport
import VigilTestSupport
import VigilUplink

/// `vigil status`'s upstream bytes (today, last 30 days): counted by the uplink itself,
/// compared with what socat relaying the connection saw, and kept across a restart.
final class UplinkTrafficTests: XCTestCase {
    /// socat -v logs every chunk it relays as `> DATE TIME  length=N from=… to=…` (`<` the other way),
    /// then the data, which need not end a line: the markers are found anywhere.
    func relayedBytes(_ socatLog: String) -> Int {
        var sum = 0
        var rest = Substring(socatLog)
        while let range = rest.range(of: "  length=") {
            let digits = rest[range.upperBound...].prefix { $0.isNumber }
            if rest[range.upperBound...].dropFirst(digits.count).hasPrefix(" from=") { sum += Int(digits) ?? 0 }
            rest = rest[range.upperBound...]
        }
        return sum
    }

    func testTheUplinksBytesAreTheWiresAndSurviveARestart() throws {
        let socat = try requirePeer("socat")
        let dir = temporaryDirectory()
        let receiver = try startTestReceiver(in: dir)
        defer { receiver.stop() }
        let relayPort = freeTCPPort()
        let relay = try PeerProcess(socat, ["-v", "-d", "-d", "TCP-LISTEN:\(relayPort),bind=127.0.0.1,reuseaddr,fork", "TCP:127.0.0.1:\(receiver.port)"])
        defer { relay.stop() }
        XCTAssertTrue(relay.waitFor("listening on"), relay.stderr)
        let simPort = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(simPort)", "--device", "1:qdy30a-level"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        try """
            { gateway: { id: 'gw-sim', state_dir: '\(dir)/state' }, buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(simPort) }],
              devices: [{ id: 'level-1', bus: 'sim', unit: 1, profile: 'qdy30a-level', interval_ms: 100 }],
              uplink: { kind: 'http', url: 'http://127.0.0.1:\(relayPort)/ingest', flush_ms: 200, gzip: false },
              control: { socket: '\(dir)/control.sock' } }
            """.write(toFile: "\(dir)/vigil.json5", atomically: true, encoding: .utf8)
        func status() -> [String: Any]? {
            guard let r = try? runCommand(Repo.vigil, ["status", "--json", "--socket", "\(dir)/control.sock"]),
                  let json = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else { return nil }
            return json["uplink"] as? [String: Any]
        }
        var agent = try PeerProcess(Repo.vigil, ["run", "--config", "\(dir)/vigil.json5"])
        XCTAssertTrue(eventually(timeout: 10) { (status()?["bytes_today"] as? Int ?? 0) > 5000 }, "\(status() ?? [:])\n\(agent.stderr)")
        agent.signal(SIGTERM)
        XCTAssertEqual(agent.stop(timeout: 10), 0, agent.stderr)

        // What the agent saved at its orderly stop is what crossed the relay, to within the TCP segments socat
        // logs (it counts the same bytes: HTTP request and response, headers and bodies).
        let saved = try String(contentsOfFile: "\(dir)/state/uplink-traffic", encoding: .utf8)
        let ledger = TrafficLedger(parsing: saved)
        XCTAssertEqual(ledger.unreadableLines, 0, saved)
        let counted = Int(ledger.days.values.reduce(0, +))
        // (socat's log of the last exchanges may still be on its way to us.)
        XCTAssertTrue(eventually(timeout: 5) { abs(self.relayedBytes(relay.stderr) - counted) <= counted / 100 },
                      "counted \(counted), socat relayed \(relayedBytes(relay.stderr))")

        // Kept across a restart: today's count starts from what was saved.
        agent = try PeerProcess(Repo.vigil, ["run", "--config", "\(dir)/vigil.json5"])
        defer { agent.stop() }
        XCTAssertTrue(eventually(timeout: 10) { status() != nil }, agent.stderr)
        let again = try XCTUnwrap(status())
        XCTAssertGreaterThanOrEqual(again["bytes_today"] as? Int ?? 0, counted)
        XCTAssertGreaterThanOrEqual(again["bytes_last30_days"] as? Int ?? 0, again["bytes_today"] as? Int ?? .max)
        let table = try runCommand(Repo.vigil, ["status", "--socket", "\(dir)/control.sock"]).stdout
        XCTAssertTrue(table.contains("on the wire: ") && table.contains(" today, ") && table.contains(" in the last 30 days (UTC days)"), table)
    }

    /// MQTT: the uplink counts its PUBLISH and PUBACK packets from the spec's layout; socat
    /// relaying to mosquitto sees those plus CONNECT, CONNACK and DISCONNECT (a few dozen bytes).
    func testTheMQTTUplinksCountIsItsPacketsOnTheWire() throws {
        let socat = try requirePeer("socat")
        let dir = temporaryDirectory()
        let broker = try TestBroker(in: dir)
        let relayPort = freeTCPPort()
        let relay = try PeerProcess(socat, ["-v", "-d", "-d", "TCP-LISTEN:\(relayPort),bind=127.0.0.1,reuseaddr,fork", "TCP:127.0.0.1:\(broker.port)"])
        defer { relay.stop() }
        XCTAssertTrue(relay.waitFor("listening on"), relay.stderr)
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        try journal.append((1...2000).map { i in
            .reading(Reading(timestamp: WallTime(milliseconds: fixtureEpochMs + Int64(i), clockSynced: true), device: "gas-1", point: "gas",
                             value: .double(Double(i)), raw: .none, unit: "%LEL", label: nil, quality: .good, error: nil))
        })
        try journal.commit()
        for qos in [1, 0] as [Int32] {
            var spec = MQTTUplinkSpec(url: "mqtt://127.0.0.1:\(relayPort)", host: "127.0.0.1", port: relayPort, tls: false)
            spec.batching.timeoutMs = 2000
            let format = SparkplugFormat(group: "site", edgeNode: "gw", primaryHost: nil, devices: [], dataQoS: qos)
            let before = relayedBytes(relay.stderr)
            let uplink = try MQTTUplink(spec: spec, gateway: "gw", format: format)
            XCTAssertTrue(uplink.waitUntilConnected(timeoutMs: 5000), uplink.lastError ?? "")
            let reader = JournalReader(journal: journal, lane: .telemetry)
            var last: UInt64 = 0
            while case let batch = try reader.read(after: last, maxRecords: 100), !batch.isEmpty {
                let status = GatewayStatus(uptimeSeconds: 0, pending: [:], oldestPendingMs: nil, dropped: [:], corruptRecords: 0, deadLetters: 0, devices: [])
                XCTAssertEqual("\(uplink.send(UplinkBatch(gateway: "gw", lane: .telemetry, firstSeq: batch.first!.seq, lastSeq: batch.last!.seq, records: batch), status: status))", "delivered")
                last = batch.last!.seq
            }
            uplink.close()
            let counted = Int(uplink.bytesOnTheWire)
            XCTAssertTrue(eventually(timeout: 5) {
                let wire = self.relayedBytes(relay.stderr) - before
                return wire >= counted && wire - counted < 200
            }, "QoS \(qos): counted \(counted), socat relayed \(relayedBytes(relay.stderr) - before)")
        }
    }
}

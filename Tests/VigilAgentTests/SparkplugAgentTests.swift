import Foundation
import XCTest
import VigilTestSupport

/// `vigil run` with `format: "sparkplug-b"`, judged by pysparkplug: births,
/// data, seq, Rebirth, the Will's bdSeq after a kill, bdSeq across restarts,
/// and data held while the primary host is offline.
extension ControlSocketTests {
    func testAnAgentIsASparkplugEdgeNode() throws {
        let dir = temporaryDirectory()
        let broker = try TestBroker(in: dir)
        let simPort = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(simPort)", "--device", "1:honeywell-xnx", "--start-at", "16", "--freeze"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        let judge = try SparkplugJudge(port: broker.port, rebirth: "plant/gw-ctl")
        defer { judge.stop() }
        var agent = try startAgent(
            buses: "{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(simPort) }",
            devices: "{ id: 'gas-1', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 100 }",
            extra: ", uplink: { kind: 'mqtt', url: 'mqtt://127.0.0.1:\(broker.port)', format: 'sparkplug-b', group_id: 'plant', "
                + "primary_host_id: 'scada', flush_ms: 100, heartbeat_s: 1, keepalive_s: 5, commands: { allow_writes: ['gas-1/holding:0'] } }")
        defer { agent.process.stop() }

        // Births go out at once; data waits for the primary host.
        XCTAssertTrue(eventually(timeout: 10) { !judge.of("DBIRTH", device: "gas-1").isEmpty }, agent.process.stderr + judge.peer.stderr)
        let nbirth = try XCTUnwrap(judge.of("NBIRTH").first)
        XCTAssertEqual(nbirth["seq"] as? Int, 0)
        let bdSeq = try XCTUnwrap(nbirth.metric("bdSeq")?["value"] as? Int)
        XCTAssertEqual(nbirth.metric("bdSeq")?["datatype"] as? String, "INT64")
        let dbirth = try XCTUnwrap(judge.of("DBIRTH", device: "gas-1").first)
        XCTAssertEqual(dbirth.metric("gas")?["datatype"] as? String, "FLOAT")
        XCTAssertEqual(dbirth.metric("alarm1")?["datatype"] as? String, "BOOLEAN")
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertTrue(judge.of("DDATA").isEmpty, "no data before the primary host's STATE is online")
        XCTAssertTrue(try agent.vigil(["status"]).stdout.contains("primary host scada is not online"))

        try broker.publish(topic: "spBv1.0/STATE/scada", payload: #"{"online":true,"timestamp":1}"#)
        XCTAssertTrue(eventually(timeout: 10) { judge.of("DDATA", device: "gas-1").contains { $0.metric("gas")?["value"] is Double } })
        XCTAssertTrue(eventually(timeout: 10) { judge.of("DDATA", device: "gas-1").contains { $0.metric("Alarm/State")?["value"] as? String == "raised" } },
                      "the alarm as the device's metrics")
        let ours = judge.messages.filter { $0["type"] as? String != "NCMD" } // the judge's own command is not ours to judge
        XCTAssertTrue(ours.allSatisfy { $0["error"] == nil }, "pysparkplug decodes every payload: \(ours.filter { $0["error"] != nil })")
        XCTAssertTrue(judge.of("DDATA").allSatisfy { $0["qos"] as? Int == 0 }, "data at QoS 0, as the spec says")

        // DCMD as a host sends it: an allowed register is written through the bus worker and its next DDATA shows it;
        // a point that is not one plain register is refused, and both are logged.
        try judge.command(port: broker.port, topic: "spBv1.0/plant/DCMD/gw-ctl/gas-1", metric: "device_id", datatype: "UINT16", value: "9369")
        XCTAssertTrue(eventually(timeout: 10) { judge.of("DDATA", device: "gas-1").contains { $0.metric("device_id")?["value"] as? Int == 9369 } },
                      agent.process.stderr)
        try judge.command(port: broker.port, topic: "spBv1.0/plant/DCMD/gw-ctl/gas-1", metric: "gas", datatype: "FLOAT", value: "1.5")
        XCTAssertTrue(eventually(timeout: 5) { agent.process.stderr.contains("(DCMD gas) for gas-1 refused: DCMD: gas-1/gas is not one unscaled holding register") },
                      agent.process.stderr)
        XCTAssertTrue(agent.process.stderr.contains("(DCMD device_id): writes holding 0 = [9369] on gas-1"), agent.process.stderr)

        // The judge asked for a Rebirth after the first NBIRTH: births again, same bdSeq, seq from 0.
        XCTAssertTrue(eventually(timeout: 10) { judge.of("NBIRTH").count >= 2 }, agent.process.stderr)
        XCTAssertEqual(judge.of("NBIRTH").dropFirst().first?.metric("bdSeq")?["value"] as? Int, bdSeq)
        // After the last NBIRTH, every message but NDEATH is the next seq.
        let all = judge.messages
        let lastBirth = try XCTUnwrap(all.lastIndex { $0["type"] as? String == "NBIRTH" })
        let seqs = all[lastBirth...].filter { ($0["topic"] as? String)?.hasPrefix("spBv1.0/plant/") ?? false && $0["type"] as? String != "NDEATH" && $0["type"] as? String != "NCMD" }
            .compactMap { $0["seq"] as? Int }
        XCTAssertGreaterThan(seqs.count, 3)
        XCTAssertTrue(zip(seqs, seqs.dropFirst()).allSatisfy { ($0 + 1) % 256 == $1 }, "\(seqs)")

        // Killed: the broker publishes the Will, the NDEATH with this connection's bdSeq.
        agent.process.signal(SIGKILL)
        XCTAssertTrue(eventually(timeout: 20) { !judge.of("NDEATH").isEmpty }, "the Will after keepalive × 1.5")
        XCTAssertEqual(judge.of("NDEATH").first?.metric("bdSeq")?["value"] as? Int, bdSeq)

        // Started again: the next bdSeq, stored across the restart.
        let stored = (try? String(contentsOfFile: "\(agent.dir)/state/sparkplug-bdseq", encoding: .utf8)) ?? "none"
        agent = RunningAgent(process: try PeerProcess(Repo.vigil, ["run", "--config", "\(agent.dir)/vigil.json5"]), dir: agent.dir)
        XCTAssertTrue(eventually(timeout: 10) { judge.of("NBIRTH").count >= 3 }, agent.process.stderr)
        XCTAssertEqual(judge.of("NBIRTH").last?.metric("bdSeq")?["value"] as? Int, (bdSeq + 1) % 256,
                       "\(judge.messages.filter { ["NBIRTH", "NDEATH", "NCMD"].contains($0["type"] as? String ?? "") }.map { "\($0["type"]!) \($0.metric("bdSeq")?["value"] ?? "-") \($0["timestamp"] ?? "")" }) "
                        + "stored at restart: \(stored) file: \((try? String(contentsOfFile: "\(agent.dir)/state/sparkplug-bdseq", encoding: .utf8)) ?? "none") \(agent.process.stderr)")
    }
}

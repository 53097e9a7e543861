import Foundation
import XCTest
import VigilTestSupport

/// `vigil run` with an MQTT uplink, as an installer would run it: readings
/// and alarms reach a subscriber, presence is truthful, and the technician's
/// commands say what the broker did.
extension ControlSocketTests {
    func testAnAgentOverMQTTAnnouncesItselfDeliversAlarmsAndItsWillFollowsAKill() throws {
        let dir = temporaryDirectory()
        let broker = try TestBroker(in: dir, passwords: ["gw-ctl": "s3cret"])
        try "s3cret\n".write(toFile: "\(dir)/password", atomically: true, encoding: .utf8)
        chmod("\(dir)/password", 0o600)
        let simPort = freeTCPPort()
        // Gas past 25 %LEL at once: an alarm to deliver.
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(simPort)", "--device", "1:honeywell-xnx", "--start-at", "16"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        let judge = try TestSubscriber(port: broker.port, topic: "site/gw-ctl/#", clientID: "judge", username: "gw-ctl", password: "s3cret")
        defer { judge.stop() }
        let agent = try startAgent(
            buses: "{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(simPort) }",
            devices: "{ id: 'gas-1', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 100 }",
            extra: ", uplink: { kind: 'mqtt', url: 'mqtt://127.0.0.1:\(broker.port)', username: 'gw-ctl', password_file: '\(dir)/password', topic_prefix: 'site', flush_ms: 100 }")
        defer { agent.process.stop() }

        XCTAssertTrue(eventually(timeout: 10) { judge.messages.contains { $0.topic == "site/gw-ctl/status" && $0.json?["online"] as? Bool == true } }, agent.process.stderr)
        XCTAssertTrue(eventually(timeout: 10) { judge.records(lane: "events").contains { $0["event"] as? String == "alarm_raised" } }, judge.peer.stdout)
        XCTAssertTrue(eventually(timeout: 10) { judge.records(lane: "telemetry").count > 5 })

        let status = try XCTUnwrap(try agent.json(["status"]) as? [String: Any])
        let uplink = try XCTUnwrap(status["uplink"] as? [String: Any], "\(status)")
        XCTAssertEqual(uplink["name"] as? String, "mqtt://127.0.0.1:\(broker.port)")
        XCTAssertEqual(uplink["state"] as? String, "ok")

        // uplink test: a connection of its own, which must not take the agent's session over.
        let test = try agent.vigil(["uplink", "test"])
        XCTAssertEqual(test.status, 0, test.stdout + test.stderr)
        XCTAssertTrue(test.stdout.contains("acknowledged (PUBACK)"), test.stdout)
        let before = judge.records(lane: "telemetry").count
        XCTAssertTrue(eventually(timeout: 5) { judge.records(lane: "telemetry").count > before }, "the agent still delivers after the test")
        XCTAssertFalse(agent.process.stderr.contains("s3cret"), "no secret in the log")

        // Killed: the broker publishes the Will, retained, for every subscriber.
        agent.process.signal(SIGKILL)
        XCTAssertTrue(eventually(timeout: 60) { judge.messages.last { $0.topic == "site/gw-ctl/status" }?.json?["online"] as? Bool == false },
                      "the Will after keepalive × 1.5 at most")
    }
}

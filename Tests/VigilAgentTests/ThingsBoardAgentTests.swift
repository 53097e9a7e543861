import Foundation
import XCTest
import VigilTestSupport

/// `vigil run` with `format: "thingsboard"`, judged by a paho-mqtt client
/// playing ThingsBoard: the gateway API's topics and shapes, the access token
/// as the user name, and RPC answered through the bus worker.
extension ControlSocketTests {
    func testAnAgentSpeaksThingsBoardsGatewayAPIAndAnswersRPC() throws {
        let dir = temporaryDirectory()
        // The access token is the user name: the broker lets only it publish on v1/ (anonymous: the judge).
        try "topic readwrite #\nuser A1_TEST_TOKEN\ntopic readwrite v1/#\n".write(toFile: "\(dir)/acl", atomically: true, encoding: .utf8)
        let broker = try TestBroker(in: dir, extraConfig: ["acl_file \(dir)/acl"])
        try "A1_TEST_TOKEN\n".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        chmod("\(dir)/token", 0o600)
        let simPort = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(simPort)", "--device", "1:honeywell-xnx", "--start-at", "16", "--freeze"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        let platform = try TestSubscriber(port: broker.port, topic: "v1/#", clientID: "thingsboard")
        defer { platform.stop() }
        let agent = try startAgent(
            buses: "{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(simPort) }",
            devices: "{ id: 'gas-1', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 100 }",
            extra: ", uplink: { kind: 'mqtt', url: 'mqtt://127.0.0.1:\(broker.port)', format: 'thingsboard', token_file: '\(dir)/token', "
                + "flush_ms: 100, heartbeat_s: 1, commands: { allow_writes: ['gas-1/holding:20'] } }")
        defer { agent.process.stop() }
        func on(_ topic: String) -> [[String: Any]] { platform.messages.filter { $0.topic == topic }.compactMap(\.json) }
        func entries(_ device: String) -> [[String: Any]] { on("v1/gateway/telemetry").flatMap { $0[device] as? [[String: Any]] ?? [] } }

        XCTAssertTrue(eventually(timeout: 10) { on("v1/gateway/connect").contains { $0["device"] as? String == "gas-1" } }, agent.process.stderr)
        XCTAssertEqual(on("v1/gateway/connect").first?["type"] as? String, "honeywell-xnx")
        // Published right after the connect: the judge may not have it yet.
        XCTAssertTrue(eventually(timeout: 10) { on("v1/gateway/attributes").contains { $0["gas-1"] != nil } }, platform.peer.stdout)
        let attributes = try XCTUnwrap(on("v1/gateway/attributes").first?["gas-1"] as? [String: String])
        XCTAssertEqual(attributes["profile"], "honeywell-xnx")
        XCTAssertEqual(attributes["model"], "Honeywell Analytics XNX Universal Transmitter")
        XCTAssertEqual(attributes["gas_unit"], "%LEL")
        XCTAssertTrue(eventually(timeout: 10) { entries("gas-1").filter { ($0["values"] as? [String: Any])?["gas"] != nil }.count >= 3 }, platform.peer.stdout)
        let poll = try XCTUnwrap(entries("gas-1").first { ($0["values"] as? [String: Any])?["gas"] != nil })
        XCTAssertNotNil(poll["ts"] as? Int)
        let values = try XCTUnwrap(poll["values"] as? [String: Any])
        XCTAssertNotNil(values["gas"] as? Double, "\(values)")
        XCTAssertNotNil(values["unit_code"] as? Int, "one poll's points under one ts: \(values)")
        XCTAssertTrue(eventually(timeout: 10) { entries("gas-1").contains { ($0["values"] as? [String: Any])?["alarm_gas_high"] as? Bool == true } },
                      "the alarm as a key an alarm rule can fire on")
        XCTAssertTrue(eventually(timeout: 10) { on("v1/devices/me/telemetry").contains { ($0["values"] as? [String: Any])?["uptime_s"] != nil } },
                      "the heartbeat is the gateway's own telemetry")

        // RPC as ThingsBoard sends it; the answers come back on the same topic with the same id.
        func rpc(_ id: Int, _ method: String, _ params: String) throws -> [String: Any]? {
            try broker.publish(topic: "v1/gateway/rpc", payload: #"{"device":"gas-1","data":{"id":\#(id),"method":"\#(method)","params":\#(params)}}"#)
            var answer: [String: Any]?
            _ = eventually(timeout: 10) {
                answer = on("v1/gateway/rpc").first { $0["id"] as? Int == id && $0["data"] != nil && $0["device"] as? String == "gas-1" && ($0["data"] as? [String: Any])?["method"] == nil }?["data"] as? [String: Any]
                return answer != nil
            }
            return answer
        }
        let read = try XCTUnwrap(try rpc(1, "read", #"{"table":"holding","address":0,"count":1}"#), agent.process.stderr)
        XCTAssertEqual(read["success"] as? Bool, true, "\(read)")
        XCTAssertEqual((read["values"] as? [Int])?.count, 1, "\(read)")
        XCTAssertTrue((read["response"] as? String ?? "").hasPrefix("03 02"), "the answer's PDU, read through the bus worker: \(read)")
        let write = try XCTUnwrap(try rpc(2, "write", #"{"table":"holding","address":21,"value":1}"#))
        XCTAssertEqual(write["success"] as? Bool, false)
        XCTAssertTrue((write["error"] as? String ?? "").contains("add \"gas-1/holding:21\" to uplink.commands.allow_writes"), "\(write)")
        let ack = try XCTUnwrap(try rpc(3, "alarm_ack", #"{"point":"gas"}"#))
        XCTAssertEqual(ack["success"] as? Bool, true, "\(ack)")
        XCTAssertEqual(ack["acknowledged"] as? [String], ["gas-1/gas/high"])
        XCTAssertTrue(eventually(timeout: 10) { entries("gas-1").contains { ($0["values"] as? [String: Any])?["alarm_gas_high_acked"] as? Bool == true } })
        let unknown = try XCTUnwrap(try rpc(4, "reboot", "{}"))
        XCTAssertEqual(unknown["success"] as? Bool, false)

        XCTAssertTrue(agent.process.stderr.contains("uplink command from uplink mqtt://127.0.0.1:\(broker.port) (alarm_ack id 3): acknowledged alarm gas-1/gas"), agent.process.stderr)
        XCTAssertTrue(agent.process.stderr.contains("(write id 2): write holding 21 = [1] on gas-1 refused (not in allow_writes)"), agent.process.stderr)
        XCTAssertFalse(agent.process.stderr.contains("A1_TEST_TOKEN"), "no secret in the log")
        let status = try XCTUnwrap(try agent.json(["status"]) as? [String: Any])
        XCTAssertEqual((status["uplink"] as? [String: Any])?["state"] as? String, "ok", "\(status)")
    }
}

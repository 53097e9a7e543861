import Foundation
import XCTest
import VigilTestSupport

/// ThingsBoard IoT Gateway 3.8.5 (PyPI thingsboard-gateway, not ours) and
/// Vigil poll the same pymodbus device into the same broker: what Vigil
/// publishes must have the topics and shapes thingsboard-gateway's own
/// Modbus connector produces, so ThingsBoard takes it as from its own gateway.
extension ControlSocketTests {
    func testVigilPublishesWhatThingsBoardGatewayPublishesForTheSameDevice() throws {
        let tbGateway = try requirePeer("thingsboard-gateway (.venv-thingsboard, `make test-peers`)", at: Repo.path(".venv-thingsboard/bin/thingsboard-gateway"))
        let dir = temporaryDirectory()
        try """
            topic readwrite #
            user TB_GW_TOKEN
            topic write v1/devices/me/rpc/request/#
            topic read v1/devices/me/rpc/response/#
            topic readwrite v1/devices/me/attributes/#
            topic readwrite v1/devices/me/telemetry
            topic readwrite v1/gateway/#
            user VIGIL_TOKEN
            topic readwrite v1/#
            """.write(toFile: "\(dir)/acl", atomically: true, encoding: .utf8) // the gateway must not hear its own session-limits request
        let broker = try TestBroker(in: dir, extraConfig: ["acl_file \(dir)/acl"])
        // XNX registers: gas (float32 at 40003) 10.0 %LEL, unit code (40011) 5.
        let modbusPort = freeTCPPort()
        let device = try startPymodbus(tcpPort: modbusPort, registers: ["holding": ["0": [0x2401, 0, 0x4120, 0, 0, 0, 0, 0, 0, 0, 5]]])
        defer { device.stop() }
        let platform = try TestSubscriber(port: broker.port, topic: "v1/#", clientID: "thingsboard", answerSessionLimits: true)
        defer { platform.stop() }

        let tbDir = "\(dir)/tb"
        try FileManager.default.createDirectory(atPath: tbDir, withIntermediateDirectories: true)
        try """
            { "thingsboard": { "host": "127.0.0.1", "port": \(broker.port), "remoteShell": false, "remoteConfiguration": false,
                "statistics": { "enable": false, "statsSendPeriodInSeconds": 3600 }, "handleDeviceRenaming": false,
                "security": { "type": "accessToken", "accessToken": "TB_GW_TOKEN" }, "qos": 1,
                "reportStrategy": { "type": "ON_RECEIVED" }, "checkingDeviceActivity": { "checkDeviceInactivity": false } },
              "storage": { "type": "memory", "read_records_count": 100, "max_records_count": 100000 },
              "grpc": { "enabled": false },
              "connectors": [{ "type": "modbus", "name": "Modbus", "configuration": "modbus.json" }] }
            """.write(toFile: "\(tbDir)/tb_gateway.json", atomically: true, encoding: .utf8)
        try """
            { "master": { "slaves": [{ "host": "127.0.0.1", "port": \(modbusPort), "type": "tcp", "method": "socket", "unitId": 1,
                "deviceName": "tbgw-gas", "deviceType": "default", "timeout": 35, "byteOrder": "BIG", "wordOrder": "BIG",
                "retries": 3, "pollPeriod": 500, "attributes": [],
                "timeseries": [{ "tag": "gas", "type": "32float", "functionCode": 3, "objectsCount": 2, "address": 2 },
                               { "tag": "unit_code", "type": "16uint", "functionCode": 3, "objectsCount": 1, "address": 10 }],
                "attributeUpdates": [],
                "rpc": [{ "tag": "read", "type": "16uint", "functionCode": 3, "objectsCount": 1, "address": 10 }] }] } }
            """.write(toFile: "\(tbDir)/modbus.json", atomically: true, encoding: .utf8)
        // It writes its logs under the working directory: the test's own.
        let thingsboard = try PeerProcess("/bin/sh", ["-c", "cd '\(tbDir)' && exec '\(tbGateway)'"], environment: ["TB_GW_CONFIG_DIR": tbDir])
        defer { thingsboard.stop() }

        try "VIGIL_TOKEN\n".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        chmod("\(dir)/token", 0o600)
        let agent = try startAgent(
            buses: "{ id: 'plant', kind: 'tcp', host: '127.0.0.1', port: \(modbusPort) }",
            devices: "{ id: 'vigil-gas', bus: 'plant', unit: 1, interval_ms: 500, points: [{ id: 'gas', register: 40003, type: 'float32' }, "
                + "{ id: 'unit_code', register: 40011, type: 'uint16' }] }",
            extra: ", uplink: { kind: 'mqtt', url: 'mqtt://127.0.0.1:\(broker.port)', format: 'thingsboard', token_file: '\(dir)/token', flush_ms: 200 }")
        defer { agent.process.stop() }

        func messages(_ topic: String, about device: String) -> [[String: Any]] {
            platform.messages.filter { $0.topic == topic }.compactMap(\.json).filter { $0[device] != nil || $0["device"] as? String == device }
        }
        func polls(_ device: String) -> [[String: Any]] {
            messages("v1/gateway/telemetry", about: device).flatMap { $0[device] as? [[String: Any]] ?? [] }
                .filter { ($0["values"] as? [String: Any])?["gas"] != nil }
        }
        XCTAssertTrue(eventually(timeout: 60) { !polls("tbgw-gas").isEmpty && !polls("vigil-gas").isEmpty },
                      "thingsboard-gateway: \(thingsboard.stderr.suffix(2000))\nvigil: \(agent.process.stderr.suffix(2000))")

        // connect: the same members, the same device type.
        let tbConnect = try XCTUnwrap(messages("v1/gateway/connect", about: "tbgw-gas").first)
        let vigilConnect = try XCTUnwrap(messages("v1/gateway/connect", about: "vigil-gas").first)
        XCTAssertEqual(Set(tbConnect.keys), Set(vigilConnect.keys))
        XCTAssertEqual(tbConnect["type"] as? String, vigilConnect["type"] as? String)

        // telemetry: {device: [{ts, values: {point: value}}]}, the same values for the same registers.
        let tbPoll = try XCTUnwrap(polls("tbgw-gas").last), vigilPoll = try XCTUnwrap(polls("vigil-gas").last)
        XCTAssertEqual(Set(tbPoll.keys), ["ts", "values"])
        XCTAssertEqual(Set(vigilPoll.keys), ["ts", "values"])
        let tbValues = try XCTUnwrap(tbPoll["values"] as? [String: Double])
        var vigilValues = try XCTUnwrap(vigilPoll["values"] as? [String: Double], "\(vigilPoll)")
        // Vigil's one addition, on a gateway whose clock is not synchronised (docs/thingsboard.md).
        if let synced = vigilValues.removeValue(forKey: "clock_synced") { XCTAssertEqual(synced, 0, "present only as false") }
        XCTAssertEqual(vigilValues, tbValues)
        XCTAssertEqual(vigilValues, ["gas": 10, "unit_code": 5])
        let tbTs = try XCTUnwrap(tbPoll["ts"] as? Int), vigilTs = try XCTUnwrap(vigilPoll["ts"] as? Int)
        XCTAssertLessThan(abs(tbTs - vigilTs), 60_000, "both in milliseconds since the epoch")

        // attributes: {device: {key: value}} from both.
        for device in ["tbgw-gas", "vigil-gas"] {
            XCTAssertTrue(eventually(timeout: 10) { messages("v1/gateway/attributes", about: device).first?[device] is [String: Any] }, device)
        }

        // RPC: the same request shape reaches both, and both answer {device, id, data} with the request's id.
        for (id, device) in [(71, "tbgw-gas"), (72, "vigil-gas")] {
            try broker.publish(topic: "v1/gateway/rpc", payload: #"{"device":"\#(device)","data":{"id":\#(id),"method":"read","params":{"table":"holding","address":10}}}"#)
            XCTAssertTrue(eventually(timeout: 15) { messages("v1/gateway/rpc", about: device).contains { $0["id"] as? Int == id && $0["data"] is [String: Any] } },
                          "\(device): \(platform.peer.stdout.suffix(1500))")
            let answer = try XCTUnwrap(messages("v1/gateway/rpc", about: device).first { $0["id"] as? Int == id })
            XCTAssertEqual(Set(answer.keys), ["device", "id", "data"], "\(answer)")
        }
    }
}

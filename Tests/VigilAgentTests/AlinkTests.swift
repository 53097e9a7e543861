import Foundation
import XCTest
import VigilAgent
import VigilCore
import VigilTestSupport
import VigilUplink

/// format alink over MQTT: the login as Alibaba's own SDK signs it, and the
/// platform's post_reply, not the broker's PUBACK, as the commit point.
final class AlinkTests: XCTestCase {
    let t0 = fixtureEpochMs

    /// Alibaba's aliyun-iot-linkkit, in the repo's virtual environment (make test-peers).
    func sdkSign(_ productKey: String, _ deviceName: String, _ secret: String, _ ms: Int64) throws -> (clientID: String, sign: String) {
        let python = try requirePaho()
        if try runCommand(python, ["-c", "import linkkit"]).status != 0 {
            let message = "aliyun-iot-linkkit is not installed in .venv (run `make test-peers`)"
            if ProcessInfo.processInfo.environment["CI"] == "true" { throw MissingPeer(description: message) }
            throw XCTSkip(message)
        }
        let r = try runCommand(python, [Repo.peerScript("alink_sign.py"), productKey, deviceName, secret, String(ms)])
        XCTAssertEqual(r.status, 0, r.stderr)
        let fields = r.stdout.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertEqual(fields.count, 3, r.stdout)
        XCTAssertEqual(fields[1], String(ms))
        return (fields[0], fields[2])
    }

    func testTheLoginIsSignedAsAlibabasSDKSignsIt() throws {
        // The last secret is longer than SHA-256's 64-byte block: HMAC hashes it first.
        for (pk, dn, secret, ms) in [("a1B2c3D4e5F", "gw-07", "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3t12", t0), ("k0abc", "泵房-1", "x:y@z", t0 + 123),
                                     ("a1Long", "gw-08", String(repeating: "0123456789", count: 10), t0 + 7)] {
            let sdk = try sdkSign(pk, dn, secret, ms)
            let login = try MQTTLogin.alink(productKey: pk, deviceName: dn, deviceSecret: secret, timestampMs: ms, tls: true)
            XCTAssertEqual(login.password, sdk.sign, "\(pk) \(dn)")
            XCTAssertEqual(login.clientID, "\(sdk.clientID)|securemode=2,signmethod=hmacsha256,timestamp=\(ms)|")
            XCTAssertEqual(login.username, "\(dn)&\(pk)")
        }
        XCTAssertTrue(try MQTTLogin.alink(productKey: "p", deviceName: "d", deviceSecret: "s", timestampMs: 1, tls: false).clientID.contains("securemode=3"),
                      "securemode 3 on plain TCP")
    }

    func testASubDevicesTopologyIsSignedAsAlibabasSDKSignsIt() throws {
        let ms = t0 + 777
        let secret = "subS3cr3t"
        let format = AlinkFormat(productKey: "gwpk", deviceName: "gw", subDevices: ["gas-2": .init(productKey: "k9xYz", deviceName: "pump-gas")],
                                 sign: { _, content in try? MQTTLogin.hmacSHA256Hex(key: secret, message: content) }, nowMs: { ms })
        let add = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(format.announcements(status: nil)[0].payload)) as? [String: Any])
        let entry = try XCTUnwrap((add["params"] as? [[String: String]])?.first)
        let sdk = try sdkSign("k9xYz", "pump-gas", secret, ms)
        XCTAssertEqual(entry["sign"], sdk.sign)
        XCTAssertEqual(entry["clientId"], sdk.clientID)
        XCTAssertEqual(entry["timestamp"], String(ms))
    }

    func testAPostIsDeliveredOnlyByThePlatformsReply() throws {
        let dir = temporaryDirectory()
        let (pk, dn, secret) = ("a1B2c3D4e5F", "gw-07", "s3cr3t")
        // The broker knows the device by the password Alibaba's SDK computes: it takes Vigil's only if they agree.
        let sdk = try sdkSign(pk, dn, secret, t0)
        let broker = try TestBroker(in: dir, passwords: ["\(dn)&\(pk)": sdk.sign, "platform": "p"])
        let codeFile = "\(dir)/code"
        let platform = try TestSubscriber(port: broker.port, topic: "/sys/#", clientID: "platform", username: "platform", password: "p", alinkCodeFile: codeFile)
        defer { platform.stop() }
        var spec = MQTTUplinkSpec(url: "mqtt://127.0.0.1:\(broker.port)", host: "127.0.0.1", port: broker.port, tls: false)
        spec.format = .alink
        spec.protocolVersion = .v311
        spec.batching.timeoutMs = 1000
        let login = try MQTTLogin.alink(productKey: pk, deviceName: dn, deviceSecret: secret, timestampMs: t0, tls: true)
        let uplink = try MQTTUplink(spec: spec, gateway: "gw", format: AlinkFormat(productKey: pk, deviceName: dn), login: { login })
        defer { uplink.close() }
        XCTAssertTrue(uplink.waitUntilConnected(timeoutMs: 5000), uplink.lastError ?? "")

        let now = WallTime.now(kernelSynchronised: true).milliseconds
        let records = (0..<3).map { n in
            StoredRecord(seq: UInt64(10 + n), record: .reading(Reading(timestamp: WallTime(milliseconds: now, clockSynced: true), device: "gas-\(n)", point: "gas",
                                                                       value: .float(Float(n)), raw: .none, unit: nil, label: nil, quality: .good, error: nil)))
        }
        let telemetry = UplinkBatch(gateway: "gw", lane: .telemetry, firstSeq: 10, lastSeq: 12, records: records)

        // The broker's PUBACK comes; the platform says nothing: not delivered.
        guard case .retry(_, let silent) = uplink.send(telemetry, status: nil) else { return XCTFail("a PUBACK is not the platform's word") }
        XCTAssertTrue(silent.contains("no answer from the platform to 1 of 1 messages within 1000 ms"), silent)

        try "200".write(toFile: codeFile, atomically: true, encoding: .utf8)
        XCTAssertEqual(uplink.send(telemetry, status: nil), .delivered)
        let post = try XCTUnwrap(platform.messages.last { $0.topic == "/sys/\(pk)/\(dn)/thing/event/property/post" }?.json)
        XCTAssertEqual((post["params"] as? [String: Any])?.keys.sorted(), ["gas_0_gas", "gas_1_gas", "gas_2_gas"])

        // A thing-model refusal: the batch is refused for good (telemetry goes to the dead letters; the forwarder holds events).
        try "6313".write(toFile: codeFile, atomically: true, encoding: .utf8)
        guard case .rejected(let reason) = uplink.send(telemetry, status: nil) else { return XCTFail() }
        XCTAssertTrue(reason.hasPrefix("Alink 6313"), reason)
    }
}

extension ControlSocketTests {
    /// `vigil run` with format alink: the alarm and the readings reach the platform and are answered.
    func testAnAgentOverAlinkDeliversAlarmsAndReadings() throws {
        let dir = temporaryDirectory()
        try "s3cr3t\n".write(toFile: "\(dir)/secret", atomically: true, encoding: .utf8)
        chmod("\(dir)/secret", 0o600)
        let codeFile = "\(dir)/code"
        try "200".write(toFile: codeFile, atomically: true, encoding: .utf8)
        let broker = try TestBroker(in: dir)
        let platform = try TestSubscriber(port: broker.port, topic: "/sys/#", clientID: "platform", alinkCodeFile: codeFile)
        defer { platform.stop() }
        let (agent, sim) = try startAgentPollingOneGasDetector(uplink: "uplink: { kind: 'mqtt', format: 'alink', url: 'mqtt://127.0.0.1:\(broker.port)', product_key: 'a1B2c3', device_name: 'gw-ctl', device_secret_file: '\(dir)/secret', flush_ms: 100 }")
        defer { agent.process.stop(); sim.stop() }
        XCTAssertTrue(eventually(timeout: 10) { platform.messages.contains { $0.topic == "/sys/a1B2c3/gw-ctl/thing/event/alarm/post" } }, agent.process.stderr)
        XCTAssertTrue(eventually(timeout: 10) { platform.messages.filter { $0.topic == "/sys/a1B2c3/gw-ctl/thing/event/property/post" }.count > 5 })
        let ids = platform.messages.filter { $0.topic.hasSuffix("/property/post") }.compactMap { $0.json?["id"] as? String }
        XCTAssertEqual(Set(ids).count, ids.count, "every post answered at once: none sent twice")
        let status = try XCTUnwrap(try agent.json(["status"]) as? [String: Any])
        XCTAssertEqual((status["uplink"] as? [String: Any])?["state"] as? String, "ok", "\(status)")
        let test = try agent.vigil(["uplink", "test"])
        XCTAssertNotEqual(test.status, 0)
        XCTAssertTrue(test.stderr.contains("one connection per device"), test.stderr)
        XCTAssertFalse(agent.process.stderr.contains("s3cr3t"), "no secret in the log")
    }

    /// An agent whose gas detector is sub-device k9/pump-gas of gateway a1B2c3/gw-ctl, and a paho "platform"
    /// answering every post with the code in `codeFile` (first `code`).
    func startAgentWithASubDevice(answering code: String) throws -> (agent: RunningAgent, sim: PeerProcess, platform: TestSubscriber, broker: TestBroker, codeFile: String) {
        let dir = temporaryDirectory()
        for name in ["secret", "sub-secret"] {
            try "s3cr3t-\(name)\n".write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
            chmod("\(dir)/\(name)", 0o600)
        }
        let codeFile = "\(dir)/code"
        try code.write(toFile: codeFile, atomically: true, encoding: .utf8)
        let broker = try TestBroker(in: dir)
        let platform = try TestSubscriber(port: broker.port, topic: "#", clientID: "platform", alinkCodeFile: codeFile)
        let (agent, sim) = try startAgentPollingOneGasDetector(alarmAtOnce: false, device: "cloud: { product_key: 'k9', device_name: 'pump-gas', device_secret_file: '\(dir)/sub-secret' }", uplink: "uplink: { kind: 'mqtt', format: 'alink', url: 'mqtt://127.0.0.1:\(broker.port)', product_key: 'a1B2c3', device_name: 'gw-ctl', device_secret_file: '\(dir)/secret', flush_ms: 100 }")
        return (agent, sim, platform, broker, codeFile)
    }

    /// A device with its own cloud identity: joined and logged in on connect, posting under its own thing.
    func testAnAgentOverAlinkLogsInASubDevice() throws {
        let (agent, sim, platform, broker, _) = try startAgentWithASubDevice(answering: "200")
        defer { agent.process.stop(); sim.stop(); platform.stop(); _ = broker }
        XCTAssertTrue(eventually(timeout: 10) { platform.messages.contains { $0.topic == "/ext/session/a1B2c3/gw-ctl/combine/batch_login" } }, agent.process.stderr)
        XCTAssertTrue(platform.messages.contains { $0.topic == "/sys/a1B2c3/gw-ctl/thing/topo/add" && $0.payload.contains("\"deviceName\":\"pump-gas\"") })
        XCTAssertTrue(eventually(timeout: 10) { platform.messages.filter { $0.topic == "/sys/k9/pump-gas/thing/event/property/post" }.count > 3 })
        let post = try XCTUnwrap(platform.messages.first { $0.topic == "/sys/k9/pump-gas/thing/event/property/post" }?.json)
        XCTAssertNotNil((post["params"] as? [String: Any])?["gas"], "its own identifiers: the point ids")
        XCTAssertFalse(platform.messages.contains { $0.topic == "/sys/a1B2c3/gw-ctl/thing/event/property/post" }, "nothing of it as the gateway's")
        let ids = platform.messages.filter { $0.topic.hasSuffix("/property/post") }.compactMap { $0.json?["id"] as? String }
        XCTAssertEqual(Set(ids).count, ids.count, "answered by the platform: none sent twice")
    }

    /// The platform answers a sub-device's posts with 520 (no session: logged out behind the
    /// gateway's back): the agent logs it in again on the same connection, and the posts then go.
    func testASubDeviceWithoutASessionIsLoggedInAgainWithoutAReconnect() throws {
        let (agent, sim, platform, broker, codeFile) = try startAgentWithASubDevice(answering: "520")
        defer { agent.process.stop(); sim.stop(); platform.stop(); _ = broker }
        func count(_ topic: String) -> Int { platform.messages.filter { $0.topic == topic }.count }
        XCTAssertTrue(eventually(timeout: 15) { count("/ext/session/a1B2c3/gw-ctl/combine/batch_login") >= 2 }, agent.process.stderr)
        XCTAssertEqual(count("/sys/a1B2c3/gw-ctl/thing/topo/add"), 1, "one connection: the topology is added on connect only")
        let relogin = try XCTUnwrap(platform.messages.last { $0.topic == "/ext/session/a1B2c3/gw-ctl/combine/batch_login" }?.json)
        XCTAssertEqual(((relogin["params"] as? [String: Any])?["deviceList"] as? [[String: String]])?.map { $0["deviceName"] }, ["pump-gas"])
        let status = try XCTUnwrap(try agent.json(["status"]) as? [String: Any])
        XCTAssertTrue("\(status)".contains("Alink 520"), "vigil status says why nothing is delivered: \(status)")

        try "200".write(toFile: codeFile, atomically: true, encoding: .utf8)
        XCTAssertTrue(eventually(timeout: 20) {
            ((try? agent.json(["status"]) as? [String: Any])?["uplink"] as? [String: Any])?["state"] as? String == "ok"
        }, "the posts go once the session is back")
        XCTAssertEqual(count("/sys/a1B2c3/gw-ctl/thing/topo/add"), 1, "still the first connection")
    }
}

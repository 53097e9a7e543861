import Foundation
import XCTest
import VigilAgent
import VigilCore
import VigilTestSupport
import VigilUplink

/// format onenet over MQTT: the token as OneNET's own tool makes it, and the
/// platform's reply, not the broker's PUBACK, as the commit point.
final class OneNETTests: XCTestCase {
    let key = "s6W5Qf29VVc1gaUfA5VBt+XZbyPBC/Wpk7Ntf7vNE0E="

    /// A token made by OneNET's token tool, published with its product access key
    /// (an STM32 + LwIP example's lwip_demo.h): product resource, HMAC-SHA1.
    func testTheTokenIsWhatOneNETsToolMakes() throws {
        let token = try MQTTLogin.onenetToken(resource: "products/8q4Ad1z2jn", key: key, method: "sha1", expiresAtSeconds: 1_893_456_000)
        XCTAssertEqual(token, "version=2018-10-31&res=products%2F8q4Ad1z2jn&et=1893456000&method=sha1&sign=vw2LFxZMrYawijQhxQRSJ3aC4CQ%3D")
    }

    /// The device login with each method, against Python's own HMAC and base64 (another implementation than libcrypto's).
    func testTheDeviceLoginIsSignedAsDocumented() throws {
        // The second key (96 bytes) is longer than the digests' 64-byte block: HMAC hashes it first.
        let longKey = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1"
        for (method, key) in ["md5", "sha1", "sha256"].flatMap({ method in [(method, key), (method, longKey)] }) {
            let login = try MQTTLogin.onenet(productID: "8q4Ad1z2jn", deviceName: "gw-07", key: key, method: method, expiresAtSeconds: 1_893_456_000)
            XCTAssertEqual(login.clientID, "gw-07", "the client id is the device name")
            XCTAssertEqual(login.username, "8q4Ad1z2jn", "the user name is the product id")
            XCTAssertEqual(login.password, try onenetToken(productID: "8q4Ad1z2jn", deviceName: "gw-07", key: key, method: method, et: 1_893_456_000),
                           "\(method), a \(key.count)-character key")
        }
        XCTAssertThrowsError(try MQTTLogin.onenet(productID: "p", deviceName: "d", key: "not base64!", expiresAtSeconds: 1)) { error in
            XCTAssertTrue("\(error)".contains("not base64"), "\(error)")
        }
        XCTAssertThrowsError(try MQTTLogin.onenet(productID: "p", deviceName: "d", key: key, method: "sha512", expiresAtSeconds: 1))
    }

    func testAPostIsDeliveredOnlyByThePlatformsReply() throws {
        let dir = temporaryDirectory()
        let (pid, dn, et) = ("8q4Ad1z2jn", "gw-07", Int64(1_893_456_000))
        // The broker knows the device by the token Python computes: it takes Vigil's only if they agree.
        let broker = try TestBroker(in: dir, passwords: [pid: try onenetToken(productID: pid, deviceName: dn, key: key, method: "sha256", et: et), "platform": "p"])
        let codeFile = "\(dir)/code"
        let platform = try TestSubscriber(port: broker.port, topic: "$sys/#", clientID: "platform", username: "platform", password: "p", onenetCodeFile: codeFile)
        defer { platform.stop() }
        var spec = MQTTUplinkSpec(url: "mqtt://127.0.0.1:\(broker.port)", host: "127.0.0.1", port: broker.port, tls: false)
        spec.format = .onenet
        spec.protocolVersion = .v311
        spec.batching.timeoutMs = 1000
        let login = try MQTTLogin.onenet(productID: pid, deviceName: dn, key: key, expiresAtSeconds: et)
        let uplink = try MQTTUplink(spec: spec, gateway: "gw", format: OneNETFormat(productID: pid, deviceName: dn), login: { login })
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
        let post = try XCTUnwrap(platform.messages.last { $0.topic == "$sys/\(pid)/\(dn)/thing/property/post" }?.json)
        XCTAssertEqual((post["params"] as? [String: Any])?.keys.sorted(), ["gas_0_gas", "gas_1_gas", "gas_2_gas"])

        // A message the platform cannot take: refused for good (telemetry goes to the dead letters; the forwarder holds events).
        try "400".write(toFile: codeFile, atomically: true, encoding: .utf8)
        guard case .rejected(let reason) = uplink.send(telemetry, status: nil) else { return XCTFail() }
        XCTAssertTrue(reason.hasPrefix("OneNET 400 refused by the test"), reason)
    }
}

/// The token OneNET expects, by Python's own HMAC, base64 and URL quoting.
func onenetToken(productID: String, deviceName: String, key: String, method: String, et: Int64) throws -> String {
    let python = try requirePeer("python (.venv)", at: Repo.python)
    let script = """
        import base64, hashlib, hmac, sys, urllib.parse
        pid, dn, key, method, et = sys.argv[1:]
        res = f"products/{pid}/devices/{dn}"
        sign = base64.b64encode(hmac.new(base64.b64decode(key), f"{et}\\n{method}\\n{res}\\n2018-10-31".encode(), getattr(hashlib, method)).digest()).decode()
        q = lambda v: urllib.parse.quote(v, safe="")
        print(f"version=2018-10-31&res={q(res)}&et={et}&method={method}&sign={q(sign)}")
        """
    let r = try runCommand(python, ["-c", script, productID, deviceName, key, method, String(et)])
    XCTAssertEqual(r.status, 0, r.stderr)
    return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

extension ControlSocketTests {
    /// `vigil run` with format onenet: the alarm and the readings reach the platform and are answered.
    func testAnAgentOverOneNETDeliversAlarmsAndReadings() throws {
        let dir = temporaryDirectory()
        try "s6W5Qf29VVc1gaUfA5VBt+XZbyPBC/Wpk7Ntf7vNE0E=\n".write(toFile: "\(dir)/key", atomically: true, encoding: .utf8)
        chmod("\(dir)/key", 0o600)
        let codeFile = "\(dir)/code"
        try "200".write(toFile: codeFile, atomically: true, encoding: .utf8)
        let broker = try TestBroker(in: dir)
        let platform = try TestSubscriber(port: broker.port, topic: "$sys/#", clientID: "platform", onenetCodeFile: codeFile)
        defer { platform.stop() }
        let (agent, sim) = try startAgentPollingOneGasDetector(uplink: "uplink: { kind: 'mqtt', format: 'onenet', url: 'mqtt://127.0.0.1:\(broker.port)', product_id: '8q4Ad1z2jn', device_name: 'gw-ctl', device_secret_file: '\(dir)/key', flush_ms: 100 }")
        defer { agent.process.stop(); sim.stop() }
        XCTAssertTrue(eventually(timeout: 10) {
            platform.messages.contains { $0.topic == "$sys/8q4Ad1z2jn/gw-ctl/thing/event/post" && $0.payload.contains(#""alarm":{"value":{"device":"gas-1""#) }
        }, agent.process.stderr)
        XCTAssertTrue(eventually(timeout: 10) { platform.messages.filter { $0.topic == "$sys/8q4Ad1z2jn/gw-ctl/thing/property/post" }.count > 5 })
        let post = try XCTUnwrap(platform.messages.first { $0.topic == "$sys/8q4Ad1z2jn/gw-ctl/thing/property/post" }?.json)
        XCTAssertNotNil((post["params"] as? [String: Any])?["gas_1_gas"], "the gateway's properties, <device>_<point>")
        let ids = platform.messages.filter { $0.topic.hasSuffix("/property/post") }.compactMap { $0.json?["id"] as? String }
        XCTAssertEqual(Set(ids).count, ids.count, "every post answered at once: none sent twice")
        let status = try XCTUnwrap(try agent.json(["status"]) as? [String: Any])
        XCTAssertEqual((status["uplink"] as? [String: Any])?["state"] as? String, "ok", "\(status)")
        let test = try agent.vigil(["uplink", "test"])
        XCTAssertNotEqual(test.status, 0)
        XCTAssertTrue(test.stderr.contains("one connection per device"), test.stderr)
        XCTAssertFalse(agent.process.stderr.contains("s6W5Qf29"), "no key in the log")
    }
}

import Foundation
import XCTest
import VigilAgent
import VigilCore
import VigilTestSupport
import VigilUplink

/// format iotda over MQTT: the login as Huawei documents it, and an agent
/// whose login a broker checks.
final class IoTDATests: XCTestCase {
    func testTheLoginIsHuaweisOwnExample() throws {
        // "设备连接鉴权": secret 12345678 at the hour 2025041401 gives c75150e6… (2025-04-14T01:30:00Z).
        let login = try MQTTLogin.iotda(deviceID: "6801a9b0_gw-07", secret: "12345678", atMs: 1_744_594_200_000)
        XCTAssertEqual(login.password, "c75150e6cb841417396819e4d2ee4358a416344a03a083e3a8567074ddec820a")
        XCTAssertEqual(login.clientID, "6801a9b0_gw-07_0_1_2025041401")
        XCTAssertEqual(login.username, "6801a9b0_gw-07")
    }
}

/// The password IoTDA expects now, by Python's own HMAC (another implementation than libcrypto's).
func iotdaPassword(secret: String, hour: String) throws -> String {
    let python = try requirePeer("python (.venv)", at: Repo.python)
    let r = try runCommand(python, ["-c", "import hmac, hashlib, sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())", hour, secret])
    return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

extension ControlSocketTests {
    /// `vigil run` with format iotda: the broker takes the login only with the password Python computes;
    /// the children's reports, status and alarm reach a subscriber.
    func testAnAgentOverIoTDALogsInAndReportsItsChildren() throws {
        // Not across an hour: the login's hour and the broker's password must be the same hour.
        while Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).minute == 59,
              Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).second! > 40 {
            Thread.sleep(forTimeInterval: 1)
        }
        let dir = temporaryDirectory()
        try "s3cr3t\n".write(toFile: "\(dir)/secret", atomically: true, encoding: .utf8)
        chmod("\(dir)/secret", 0o600)
        let hour = String(WallTime.now(kernelSynchronised: true).iso8601.filter(\.isNumber).prefix(10))
        let broker = try TestBroker(in: dir, passwords: ["p1_gw": try iotdaPassword(secret: "s3cr3t", hour: hour), "judge": "j"])
        let judge = try TestSubscriber(port: broker.port, topic: "$oc/devices/#", clientID: "judge", username: "judge", password: "j")
        defer { judge.stop() }
        let (agent, sim) = try startAgentPollingOneGasDetector(uplink: "uplink: { kind: 'mqtt', format: 'iotda', url: 'mqtt://127.0.0.1:\(broker.port)', device_id: 'p1_gw', device_secret_file: '\(dir)/secret', child_product_id: 'p1', flush_ms: 100 }")
        defer { agent.process.stop(); sim.stop() }
        let reports = "$oc/devices/p1_gw/sys/gateway/sub_devices/properties/report"
        XCTAssertTrue(eventually(timeout: 10) { judge.messages.filter { $0.topic == reports }.count > 3 }, agent.process.stderr)
        let report = try XCTUnwrap(judge.messages.first { $0.topic == reports }?.json)
        let child = try XCTUnwrap((report["devices"] as? [[String: Any]])?.first)
        XCTAssertEqual(child["device_id"] as? String, "p1_gas-1", "IoTDA's own rule: <product_id>_<node_id>")
        let service = try XCTUnwrap((child["services"] as? [[String: Any]])?.first)
        XCTAssertEqual(service["service_id"] as? String, "vigil")
        XCTAssertNotNil((service["properties"] as? [String: Any])?["gas"])
        XCTAssertTrue(eventually(timeout: 10) { judge.messages.contains { $0.topic == "$oc/devices/p1_gw/sys/events/up" && $0.payload.contains("\"event_type\":\"alarm\"") } })
        XCTAssertFalse(agent.process.stderr.contains("s3cr3t"), "no secret in the log")
    }
}

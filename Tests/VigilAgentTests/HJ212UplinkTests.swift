import Foundation
import XCTest
import VigilAgent
import VigilCore
import VigilLab
import VigilTestSupport
import VigilUplink

/// HJ 212 over TCP against the lab platform (no HJ 212 platform is packaged
/// for Debian or PyPI; the packet layer is checked against the standard's own
/// examples in HJ212FrameTests): the platform's answer is the commit point.
final class HJ212UplinkTests: XCTestCase {
    let t0 = fixtureEpochMs
    let format = HJ212Format(systemCode: "31", stations: ["gas-1": .init(mn: "MN0001", codes: ["gas": "a21026"])], utcOffsetMinutes: 480, alarmEvents: true)

    var telemetry: UplinkBatch {
        let records = (0..<3).map { n in
            StoredRecord(seq: UInt64(n + 1), record: .reading(Reading(timestamp: WallTime(milliseconds: t0 + Int64(n) * 1000, clockSynced: true), device: "gas-1",
                                                                      point: "gas", value: .float(Float(n)), raw: .none, unit: "%LEL", label: nil, quality: .good, error: nil)))
        }
        return UplinkBatch(gateway: "gw", lane: .telemetry, firstSeq: 1, lastSeq: 3, records: records)
    }

    func uplink(port: Int, password: String, timeoutMs: Int = 2000) throws -> (HJ212Uplink, String) {
        let file = temporaryDirectory() + "/pw"
        try password.write(toFile: file, atomically: true, encoding: .utf8)
        var spec = HJ212UplinkSpec(url: "tcp://127.0.0.1:\(port)", host: "127.0.0.1", port: port, systemCode: "31", mn: "MN0001", passwordFile: file)
        spec.batching.timeoutMs = timeoutMs
        return (try HJ212Uplink(spec: spec, format: format), file)
    }

    func testABatchIsDeliveredWhenEveryPacketIsAnswered() throws {
        let platform = try HJ212Platform(password: "123456")
        platform.start()
        defer { platform.stop() }
        let (up, _) = try uplink(port: platform.port, password: "123456")
        XCTAssertEqual(up.send(telemetry, status: nil), .delivered)
        XCTAssertEqual(platform.packets.count, 3, "one real-time packet a poll")
        XCTAssertTrue(platform.packets.allSatisfy { $0.contains(";CN=2011;PW=123456;MN=MN0001;Flag=5;CP=&&DataTime=") }, "\(platform.packets)")
        XCTAssertEqual(platform.packets.map { $0.split(separator: "&&")[1].split(separator: ";")[1] }, ["a21026-Rtd=0.0,a21026-Flag=N", "a21026-Rtd=1.0,a21026-Flag=N", "a21026-Rtd=2.0,a21026-Flag=N"])
        XCTAssertEqual(platform.damagedPackets, 0, "lengths and CRCs as the platform computes them")
        XCTAssertEqual(up.send(telemetry, status: nil), .delivered, "the connection is kept for the next batch")
        XCTAssertGreaterThan(up.bytesOnTheWire, 0)
    }

    func testAPlatformThatDoesNotAnswerDoesNotCommitTheBatch() throws {
        let platform = try HJ212Platform()
        platform.start()
        defer { platform.stop() }
        platform.setAnswering(false)
        let (up, _) = try uplink(port: platform.port, password: "1", timeoutMs: 500)
        guard case .retry(_, let reason) = up.send(telemetry, status: nil) else { return XCTFail("written is not stored") }
        XCTAssertTrue(reason.contains("no answer within 500 ms: 3 of 3 packets not answered"), reason)
        platform.setAnswering(true)
        XCTAssertEqual(up.send(telemetry, status: nil), .delivered, "the same batch again, on a new connection")
        XCTAssertEqual(platform.packets.count, 3)
    }

    func testAWrongPasswordWaitsForTheFixAndIsNeverRefusedForGood() throws {
        let platform = try HJ212Platform(password: "123456")
        platform.start()
        defer { platform.stop() }
        let (up, file) = try uplink(port: platform.port, password: "654321")
        guard case .unauthorized(let reason) = up.send(telemetry, status: nil) else { return XCTFail("held, as a 401 is") }
        XCTAssertTrue(reason.contains("refused the password (QnRtn=3)"), reason)
        XCTAssertFalse(reason.contains("654321"), "no secret in a reason that is logged")
        Thread.sleep(forTimeInterval: 0.01) // a new modification time
        try "123456".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(up.send(telemetry, status: nil), .delivered, "the fixed password file is read at the next try")
    }

    /// The minute that a batch closes is sent again with that batch when the platform did not answer it,
    /// with the same figures: the statistics move on with delivered batches only.
    func testMinuteDataOfABatchSentAgainIsSentAgainWhole() throws {
        let platform = try HJ212Platform()
        platform.start()
        defer { platform.stop() }
        let file = temporaryDirectory() + "/pw"
        try "1".write(toFile: file, atomically: true, encoding: .utf8)
        var spec = HJ212UplinkSpec(url: "tcp://127.0.0.1:\(platform.port)", host: "127.0.0.1", port: platform.port, systemCode: "31", mn: "MN0001", passwordFile: file)
        spec.batching.timeoutMs = 500
        let up = try HJ212Uplink(spec: spec, format: HJ212Format(systemCode: "31", stations: ["gas-1": .init(mn: "MN0001", codes: ["gas": "a21026"])],
                                                                 utcOffsetMinutes: 480, alarmEvents: true, intervals: [.minutes(1)]))
        func batch(_ polls: [(s: Int64, gas: Float)], firstSeq: UInt64) -> UplinkBatch {
            let records = polls.enumerated().map { n, poll in
                StoredRecord(seq: firstSeq + UInt64(n), record: .reading(Reading(timestamp: WallTime(milliseconds: t0 + poll.s * 1000, clockSynced: true), device: "gas-1",
                                                                                 point: "gas", value: .float(poll.gas), raw: .none, unit: "%LEL", label: nil, quality: .good, error: nil)))
            }
            return UplinkBatch(gateway: "gw", lane: .telemetry, firstSeq: firstSeq, lastSeq: firstSeq + UInt64(polls.count) - 1, records: records)
        }
        // t0 is 05:06:40 in Beijing: 05:07 is seen whole.
        XCTAssertEqual(up.send(batch([(0, 9), (20, 2), (40, 4)], firstSeq: 1), status: nil), .delivered)
        platform.setAnswering(false)
        let closing = batch([(80, 5)], firstSeq: 4)
        guard case .retry = up.send(closing, status: nil) else { return XCTFail("written is not stored") }
        platform.setAnswering(true)
        XCTAssertEqual(up.send(closing, status: nil), .delivered)
        let minutes = platform.packets.filter { $0.contains(";CN=2051;") }.map { String($0.split(separator: "&&")[1]) }
        XCTAssertEqual(minutes, ["DataTime=20261129050700;a21026-Min=2.0,a21026-Avg=3.333333,a21026-Max=4.0,a21026-Flag=N"],
                       "the platform keeps what it answers: the minute came again with the batch")
    }

    func testNoPlatformIsARetryNamingTheAddress() throws {
        let port = freeTCPPort()
        let (up, _) = try uplink(port: port, password: "1", timeoutMs: 500)
        guard case .retry(_, let reason) = up.send(telemetry, status: nil) else { return XCTFail() }
        XCTAssertTrue(reason.contains("cannot connect to 127.0.0.1:\(port)"), reason)
    }
}

extension ControlSocketTests {
    /// `vigil run` with an HJ 212 uplink: polls and the alarm reach the platform, answered.
    func testAnAgentOverHJ212DeliversPollsAndAlarms() throws {
        let dir = temporaryDirectory()
        try "123456\n".write(toFile: "\(dir)/pw", atomically: true, encoding: .utf8)
        chmod("\(dir)/pw", 0o600)
        let platform = try HJ212Platform(password: "123456")
        platform.start()
        defer { platform.stop() }
        let (agent, sim) = try startAgentPollingOneGasDetector(uplink: "uplink: { kind: 'hj212', url: 'tcp://127.0.0.1:\(platform.port)', st: 31, mn: 'MN-GW-CTL', password_file: '\(dir)/pw', codes: { gas: 'a21026' }, flush_ms: 100 }")
        defer { agent.process.stop(); sim.stop() }
        XCTAssertTrue(eventually(timeout: 10) { platform.packets.contains { $0.contains(";CN=2072;") && $0.contains("a21026-Ala=") && $0.contains("AlarmType=1") } },
                      agent.process.stderr + "\(platform.packets.suffix(3))")
        XCTAssertTrue(eventually(timeout: 10) { platform.packets.filter { $0.contains(";CN=2011;") && $0.contains("MN=MN-GW-CTL") }.count > 5 })
        XCTAssertTrue(agent.process.stderr.contains("unit_code"), "the points without a code are named at start: \(agent.process.stderr)")
        let status = try XCTUnwrap(try agent.json(["status"]) as? [String: Any])
        XCTAssertEqual((status["uplink"] as? [String: Any])?["state"] as? String, "ok", "\(status)")
        let test = try agent.vigil(["uplink", "test"])
        XCTAssertEqual(test.status, 0, test.stdout + test.stderr)
        XCTAssertTrue(test.stdout.contains("connected"), test.stdout)
        XCTAssertFalse(agent.process.stderr.contains("123456"), "no secret in the log")
    }
}

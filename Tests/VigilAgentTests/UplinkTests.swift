import Foundation
import XCTest
import VigilLab
import VigilCore
@testable import VigilAgent
import VigilUplink
import VigilAgentTestSupport
import VigilTestSupport

/// The HTTP(S) uplink against peers we did not write (Python's ssl) and our receiver.
final class UplinkTests: XCTestCase {
    func batch(seq: UInt64 = 1) -> UplinkBatch {
        UplinkBatch(gateway: "gw", lane: .telemetry, firstSeq: seq, lastSeq: seq, records: [StoredRecord(seq: seq, record: reading(Int(seq)))])
    }

    let status = GatewayStatus(uptimeSeconds: 1, pending: [:], oldestPendingMs: nil, dropped: [:], corruptRecords: 0, deadLetters: 0, devices: [])

    func testTLSIsVerifiedByDefaultAndTrustsTheGivenCA() throws {
        let python = try requirePymodbus()
        let dir = temporaryDirectory()
        let (cert, key) = try makeSelfSignedCertificate(in: dir)
        let port = freeTCPPort()
        let server = try PeerProcess(python, [Repo.peerScript("tls_server.py"), String(port), cert, key])
        defer { server.stop() }
        XCTAssertTrue(server.waitFor("ready"))
        let url = "https://127.0.0.1:\(port)/"

        let unverified = try HTTPUplink(spec: HTTPUplinkSpec(url: url), gateway: "gw").send(batch(), status: status)
        guard case .retry(_, let reason) = unverified else { return XCTFail("a self-signed certificate must not be trusted: \(unverified)") }
        XCTAssertTrue(reason.lowercased().contains("certificate") || reason.contains("SSL"), reason)

        var withCA = HTTPUplinkSpec(url: url)
        withCA.caFile = cert
        XCTAssertEqual(try HTTPUplink(spec: withCA, gateway: "gw").send(batch(), status: status), .delivered)

        var insecure = HTTPUplinkSpec(url: url)
        insecure.insecure = true
        XCTAssertEqual(try HTTPUplink(spec: insecure, gateway: "gw").send(batch(), status: status), .delivered)
        XCTAssertTrue(eventually { server.stdout.components(separatedBy: "request gw-1-1").count == 3 }, server.stdout)
    }

    /// Against Python's http.server, gzip and json: version 2 only after the upstream asked for it, without an
    /// Idempotency-Key (the body names the batch); a refused version 2 batch goes again at once in version 1,
    /// and version 1 it stays, whatever the upstream goes on saying.
    func testBatchesGoInVersion2OnceTheUpstreamAsksAndInVersion1AgainWhenItRefusesOne() throws {
        let python = try requirePymodbus()
        let expected = [
            "take-v2": ["request v=1 key=gw-1-1 status=204 records=1", "request v=2 key=- status=204 records=1",
                        "request v=2 key=- status=204 records=1"],
            "refuse-v2": ["request v=1 key=gw-1-1 status=204 records=1", "request v=2 key=- status=415 records=1",
                          "request v=1 key=gw-2-2 status=204 records=1", "request v=1 key=gw-3-3 status=204 records=1"],
        ]
        for (mode, requests) in expected {
            let port = freeTCPPort()
            let server = try PeerProcess(python, [Repo.peerScript("batch_version_upstream.py"), String(port), mode])
            defer { server.stop() }
            XCTAssertTrue(server.waitFor("ready"))
            let uplink = try HTTPUplink(spec: HTTPUplinkSpec(url: "http://127.0.0.1:\(port)/"), gateway: "gw")
            for seq in 1...3 { XCTAssertEqual(uplink.send(batch(seq: UInt64(seq)), status: status), .delivered, mode) }
            XCTAssertEqual(uplink.sendsVersion2, mode == "take-v2")
            XCTAssertTrue(eventually { server.stdout.split(separator: "\n").filter { $0.hasPrefix("request") }.count == requests.count }, server.stdout)
            XCTAssertEqual(server.stdout.split(separator: "\n").filter { $0.hasPrefix("request") }.map(String.init), requests, mode)
        }
    }

    func testHeartbeatsCarryTheGatewayStatusWhenNothingElseIsSent() throws {
        let dir = temporaryDirectory()
        let receiver = try startTestReceiver(in: dir)
        defer { receiver.stop() }
        let journal = try Journal(directory: "\(dir)/journal")
        let uplink = try HTTPUplink(spec: HTTPUplinkSpec(url: "http://127.0.0.1:\(receiver.port)/"), gateway: "gw-hb")
        let forwarder = Forwarder(journal: journal, uplink: uplink, gateway: "gw-hb", batching: UplinkBatching(flushMs: 100, heartbeatSeconds: 1),
                                  deadLetterDirectory: "\(dir)/dead", log: Logger(threshold: .error),
                                  deviceStates: { [(id: "gas-1", state: "offline")] })
        forwarder.start()
        defer { forwarder.stop() }
        XCTAssertTrue(eventually(timeout: 5) { receiver.counters.heartbeats >= 2 })
        XCTAssertEqual(receiver.counters.batches, 0)
    }

    func testTheTokenIsSentAsABearerAndAWrongOneIsRefused() throws {
        let dir = temporaryDirectory()
        try "s3cret\n".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        let receiver = try startTestReceiver(in: dir, token: "s3cret")
        defer { receiver.stop() }
        var spec = HTTPUplinkSpec(url: "http://127.0.0.1:\(receiver.port)/")
        spec.tokenFile = "\(dir)/token"
        XCTAssertEqual(try HTTPUplink(spec: spec, gateway: "gw").send(batch(), status: status), .delivered)
        try "wrong\n".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        guard case .unauthorized(let reason) = try HTTPUplink(spec: spec, gateway: "gw").send(batch(), status: status) else { return XCTFail() }
        XCTAssertTrue(reason.hasPrefix("authentication refused (HTTP 401"), reason)
    }
}

import Foundation
import XCTest
import VigilAgent
import VigilCore
import VigilTestSupport

/// An uplink that takes several batches at once (MQTT) is sent a backlog a window
/// of full batches at a time, and the journal acknowledges only what it took.
final class ForwarderGroupTests: XCTestCase {
    /// Takes up to 4 batches at once and answers each send from its script (then `.delivered`),
    /// recording the batch ids of every send.
    final class ScriptedUplink: Uplink, @unchecked Sendable {
        let name = "scripted"
        let batchesInFlight = 4
        private let lock = NSLock()
        private var sends: [[String]] = []
        private var script: [UplinkOutcome]
        init(_ script: [UplinkOutcome] = []) { self.script = script }
        var sent: [[String]] { lock.withLock { sends } }
        func send(_ batch: UplinkBatch, status: GatewayStatus?) -> UplinkOutcome { send([batch], status: status) }
        func send(_ batches: [UplinkBatch], status: GatewayStatus?) -> UplinkOutcome {
            lock.withLock {
                sends.append(batches.map(\.id))
                return script.isEmpty ? .delivered : script.removeFirst()
            }
        }
        func sendHeartbeat(_ status: GatewayStatus) -> UplinkOutcome? { nil }
    }

    func forwarder(_ journal: Journal, _ uplink: ScriptedUplink, dir: String) -> Forwarder {
        var batching = UplinkBatching(flushMs: 20)
        batching.batchMaxRecords = 10
        return Forwarder(journal: journal, uplink: uplink, gateway: "gw", batching: batching, deadLetterDirectory: "\(dir)/dead-letter",
                         log: Logger(threshold: .error))
    }

    func testABacklogGoesAWindowOfFullBatchesAtATime() throws {
        let dir = temporaryDirectory()
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        try journal.append((1...105).map { reading($0) })
        try journal.commit()
        let uplink = ScriptedUplink()
        let forwarder = forwarder(journal, uplink, dir: dir)
        forwarder.start()
        XCTAssertTrue(eventually { journal.cursor.acked[.telemetry] == 105 }, "\(uplink.sent)")
        forwarder.stop()
        XCTAssertEqual(uplink.sent, [["gw-1-10", "gw-11-20", "gw-21-30", "gw-31-40"], ["gw-41-50", "gw-51-60", "gw-61-70", "gw-71-80"],
                                     ["gw-81-90", "gw-91-100"], ["gw-101-105"]], "the short batch at the end goes alone")
        XCTAssertEqual(forwarder.counters.batchesDelivered, 11)
        XCTAssertEqual(forwarder.counters.recordsDelivered, 105)
    }

    /// A group that failed goes again whole; what the upstream refuses (here, a batch's content) is
    /// learnt from the group's first batch alone, so a refusal never sets aside the batches beside it.
    func testAFailedGroupGoesAgainWholeAndARefusalIsLearntFromItsFirstBatchAlone() throws {
        let dir = temporaryDirectory()
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        try journal.append((1...40).map { reading($0) })
        try journal.commit()
        let uplink = ScriptedUplink([.retry(afterMs: nil, reason: "no PUBACK for 4 of 4 messages"),
                                     .rejected(reason: "PUBACK 0x99 payload format invalid"), .rejected(reason: "PUBACK 0x99 payload format invalid")])
        let forwarder = forwarder(journal, uplink, dir: dir)
        forwarder.start()
        XCTAssertTrue(eventually(timeout: 10) { journal.cursor.acked[.telemetry] == 40 }, "\(uplink.sent)")
        forwarder.stop()
        let group = ["gw-1-10", "gw-11-20", "gw-21-30", "gw-31-40"]
        XCTAssertEqual(uplink.sent, [group, group, ["gw-1-10"], ["gw-11-20", "gw-21-30", "gw-31-40"]])
        XCTAssertEqual(directoryEntries("\(dir)/dead-letter"), ["gw-1-10.json"], "the refused batch alone is set aside")
    }
}

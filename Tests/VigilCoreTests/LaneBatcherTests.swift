import XCTest
import VigilCore
import VigilTestSupport

/// A batch resent after a crash is the same batch: same records, same id.
final class LaneBatcherTests: XCTestCase {
    func testAFullBatchFormsAgainIdenticallyAfterARestart() throws {
        let dir = temporaryDirectory()
        var journal = try Journal(directory: dir, clock: ManualWallClock())
        try journal.append((1...25).map { reading($0) })
        try journal.commit()
        let first = try XCTUnwrap(try LaneBatcher(journal: journal, lane: .telemetry, gateway: "gw", maxRecords: 10, maxBytes: 1 << 20).next(requireFull: true))
        XCTAssertEqual(first.id, "gw-1-10")
        XCTAssertNil(journal.cursor.inFlight[.telemetry], "a full batch needs no marker: it forms again by itself")
        try journal.close()
        journal = try Journal(directory: dir, clock: ManualWallClock())
        let again = try XCTUnwrap(try LaneBatcher(journal: journal, lane: .telemetry, gateway: "gw", maxRecords: 10, maxBytes: 1 << 20).next(requireFull: true))
        XCTAssertEqual(again.id, first.id)
        XCTAssertEqual(again.records, first.records)
    }

    /// The full batches after a full one go before its acknowledgement (MQTT's window), unmarked:
    /// acknowledged in order, they form again by themselves after a crash.
    func testTheFullBatchesFollowingAFullOneFormWithoutAMarkerAndAgainAfterARestart() throws {
        let dir = temporaryDirectory()
        var journal = try Journal(directory: dir, clock: ManualWallClock())
        try journal.append((1...25).map { reading($0) })
        try journal.commit()
        func batches(_ journal: Journal) throws -> [UplinkBatch] {
            let batcher = LaneBatcher(journal: journal, lane: .telemetry, gateway: "gw", maxRecords: 10, maxBytes: 1 << 20)
            var out = [try XCTUnwrap(try batcher.next(requireFull: true))]
            while let following = try batcher.following(out[out.count - 1]) { out.append(following) }
            return out
        }
        let first = try batches(journal)
        XCTAssertEqual(first.map(\.id), ["gw-1-10", "gw-11-20"], "21–25 are not a full batch: they wait")
        XCTAssertNil(journal.cursor.inFlight[.telemetry])
        try journal.close()
        journal = try Journal(directory: dir, clock: ManualWallClock())
        let again = try batches(journal)
        XCTAssertEqual(again.map(\.id), first.map(\.id))
        XCTAssertEqual(again.map(\.records), first.map(\.records))
    }

    func testAShortBatchIsRememberedAndResentWholeUnderItsId() throws {
        let dir = temporaryDirectory()
        var journal = try Journal(directory: dir, clock: ManualWallClock())
        try journal.append((1...4).map { reading($0) })
        try journal.commit()
        let short = try XCTUnwrap(try LaneBatcher(journal: journal, lane: .telemetry, gateway: "gw", maxRecords: 10, maxBytes: 1 << 20).next(requireFull: false))
        XCTAssertEqual(short.id, "gw-1-4")
        // More records arrive, then the agent crashes before the acknowledgement.
        try journal.append((5...8).map { reading($0) })
        try journal.commit()
        try journal.close()
        journal = try Journal(directory: dir, clock: ManualWallClock())
        let batcher = LaneBatcher(journal: journal, lane: .telemetry, gateway: "gw", maxRecords: 10, maxBytes: 1 << 20)
        let resent = try XCTUnwrap(try batcher.next(requireFull: false))
        XCTAssertEqual(resent.id, "gw-1-4", "the batch in flight, not one with the new records")
        XCTAssertEqual(resent.records.map(\.seq), [1, 2, 3, 4])
        try batcher.acknowledge(resent)
        XCTAssertEqual(try batcher.next(requireFull: false)?.id, "gw-5-8")
    }

    /// Short of a full batch the batcher answers from the journal's counts, without reading the
    /// records: it must still form the batch the moment one is full (events between the readings
    /// take seqs of their own), and still know the oldest record waiting after an acknowledgement.
    func testWaitingForAFullBatchKnowsTheOldestAndFormsItWhenFull() throws {
        let journal = try Journal(directory: temporaryDirectory(), clock: ManualWallClock())
        let batcher = LaneBatcher(journal: journal, lane: .telemetry, gateway: "gw", maxRecords: 10, maxBytes: 1 << 20)
        try journal.append((1...14).map { $0 % 3 == 0 ? event($0) : reading($0) }) // 10 readings, 4 events
        try journal.commit()
        XCTAssertEqual(journal.pending(.telemetry), 10)
        let full = try XCTUnwrap(try batcher.next(requireFull: true), "ten readings: a full batch")
        XCTAssertEqual(full.records.map(\.seq), [1, 2, 4, 5, 7, 8, 10, 11, 13, 14])
        try journal.append((15...22).map { reading($0) })
        try journal.commit()
        try batcher.acknowledge(full)
        XCTAssertEqual(journal.pending(.telemetry), 8)
        XCTAssertNil(try batcher.next(requireFull: true))
        XCTAssertEqual(batcher.oldestPendingMs, fixtureEpochMs + 15, "the first record after the acknowledgement")
        try journal.append((23...24).map { reading($0) })
        try journal.commit()
        XCTAssertEqual(try batcher.next(requireFull: true)?.records.map(\.seq), Array(15...24))
    }

    /// `pending` counts records appended but not yet fsynced, which no read sees: waiting for
    /// them leaves the reader where it was, so the full batch forms without opening the segment again.
    func testWaitingForRecordsNotYetFsyncedLeavesTheReaderWhereItWas() throws {
        let journal = try Journal(directory: temporaryDirectory(), clock: ManualWallClock())
        let batcher = LaneBatcher(journal: journal, lane: .telemetry, gateway: "gw", maxRecords: 10, maxBytes: 1 << 20)
        try journal.append((1...10).map { reading($0) })
        try journal.commit()
        try batcher.acknowledge(try XCTUnwrap(try batcher.next(requireFull: true)))
        try journal.append((11...13).map { reading($0) })
        try journal.commit()
        try journal.append((14...25).map { reading($0) })
        XCTAssertEqual(journal.pending(.telemetry), 15, "counted, though not fsynced")
        XCTAssertNil(try batcher.next(requireFull: true), "three readable: no full batch")
        let opened = batcher.readerSeeks
        try journal.commit()
        XCTAssertEqual(try batcher.next(requireFull: true)?.records.map(\.seq), Array(11...20))
        XCTAssertEqual(batcher.readerSeeks, opened, "read on from where it stood, not from the segment's start")
    }

    func testASizeCapFormsASmallerBatchUnderANewId() throws {
        let journal = try Journal(directory: temporaryDirectory(), clock: ManualWallClock())
        try journal.append((1...6).map { reading($0) })
        try journal.commit()
        let batcher = LaneBatcher(journal: journal, lane: .telemetry, gateway: "gw", maxRecords: 10, maxBytes: 1 << 20)
        XCTAssertEqual(try batcher.next(requireFull: false)?.id, "gw-1-6")
        let smaller = try XCTUnwrap(try batcher.next(requireFull: false, sizeCap: 3))
        XCTAssertEqual(smaller.id, "gw-1-3", "refused as too large: none of it was taken, so it is formed again")
        XCTAssertEqual(journal.cursor.inFlight[.telemetry], 1...3, "and remembered, short of a full batch")
        XCTAssertEqual(batcher.fullSize, 10)
        XCTAssertEqual(LaneBatcher(journal: journal, lane: .telemetry, gateway: "gw", maxRecords: 500, maxBytes: 2000).fullSize, 10, "about 200 bytes a record")
    }
}

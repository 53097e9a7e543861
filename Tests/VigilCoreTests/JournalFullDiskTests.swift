import Foundation
import XCTest
@testable import VigilCore
import VigilTestSupport

/// The journal on a disk that fills up or turns read-only (a real tmpfs): old
/// telemetry makes room, what cannot be written waits in memory (readings up to
/// a bound), nothing is half-written, and every record lost is counted.
final class JournalFullDiskTests: XCTestCase {
    var disk = ""
    var options = JournalOptions()
    var appended = 0
    let alarm = Record.event(Event(timestamp: WallTime(milliseconds: fixtureEpochMs, clockSynced: true), kind: .alarmRaised, device: "gas-1"))

    override func setUpWithError() throws {
        disk = try smallFilesystem("1m", for: self)
        options.segmentBytes = 64 * 1024
        options.maxUnwrittenBytes = 64 * 1024
        appended = 0
    }

    /// Appends batches of 500 readings; returns the write errors.
    func append(_ journal: Journal, batches: Int) -> [FileError] {
        (0..<batches).compactMap { _ in
            defer { appended += 500 }
            let taken = journal.take((0..<500).map { reading(appended + $0) })
            XCTAssertNotNil(taken.seqs, "every record gets a seq")
            return taken.writeError
        }
    }

    func fillTheDisk() throws {
        FileManager.default.createFile(atPath: "\(disk)/filler", contents: nil)
        let filler = try XCTUnwrap(FileHandle(forWritingAtPath: "\(disk)/filler"))
        while (try? filler.write(contentsOf: Data(count: 4096))) != nil {}
        try filler.close()
    }

    /// What a crash now would find counted as dropped: the cursor file as it is.
    func droppedInTheCursorFile() throws -> UInt64 {
        try CursorFile(path: "\(disk)/journal/cursor").load().get().dropped[.telemetry] ?? 0
    }

    /// Closes, reopens, and checks that nothing is torn and that on disk + dropped is everything appended.
    func checkEveryRecordIsOnDiskOrCounted(_ journal: Journal, events: Int) throws {
        try journal.close()
        let reopened = try Journal(directory: "\(disk)/journal", options: options, clock: ManualWallClock())
        XCTAssertTrue(reopened.recovery.isClean, reopened.recovery.summary)
        XCTAssertEqual(try readAll(reopened, .events).count, events, "every alarm was kept")
        let readings = try readAll(reopened, .telemetry)
        let dropped = reopened.cursor.dropped[.telemetry] ?? 0
        XCTAssertEqual(UInt64(readings.count) + dropped, UInt64(appended), "\(readings.count) on disk, \(dropped) dropped, \(appended) appended")
        let seqs = readings.map(\.seq)
        XCTAssertEqual(seqs, seqs.sorted())
        XCTAssertEqual(Set(seqs).count, seqs.count, "no seq twice")
    }

    func testTheJournalFillingTheDiskDropsItsOldestTelemetryAndGoesOn() throws {
        let journal = try Journal(directory: "\(disk)/journal", options: options, clock: ManualWallClock())
        XCTAssertEqual(append(journal, batches: 200).map(\.errno), [], "room is made: no write fails")
        XCTAssertGreaterThan(journal.cursor.dropped[.telemetry] ?? 0, 0, "the oldest telemetry went, counted")
        XCTAssertEqual(try droppedInTheCursorFile(), journal.cursor.dropped[.telemetry], "counted at once: a crash now loses no count")
        // An alarm on the full disk: telemetry makes room for the events' segment too.
        XCTAssertNil(journal.take([alarm]).writeError)
        XCTAssertEqual(journal.cursor.dropped[.events] ?? 0, 0)
        try checkEveryRecordIsOnDiskOrCounted(journal, events: 1)
    }

    func testWithNothingOldToDropReadingsWaitInMemoryUpToABoundAndAlarmsAlways() throws {
        let journal = try Journal(directory: "\(disk)/journal", options: options, clock: ManualWallClock())
        XCTAssertEqual(append(journal, batches: 1).count, 0)
        try fillTheDisk()
        let errors = append(journal, batches: 100)
        XCTAssertFalse(errors.isEmpty, "the disk refused writes")
        XCTAssertTrue(errors.allSatisfy { $0.errno == ENOSPC }, "\(errors)")
        XCTAssertTrue(journal.writeError?.contains("No space left") ?? false, journal.writeError ?? "nil")
        XCTAssertGreaterThan(journal.cursor.dropped[.telemetry] ?? 0, 0, "beyond the bound, readings are dropped and counted")
        // An alarm now: held in memory, not dropped.
        XCTAssertNotNil(journal.take([alarm]).seqs)
        XCTAssertEqual(journal.cursor.dropped[.events] ?? 0, 0)
        // Room again: the next commit writes what waited; the write error clears.
        try FileManager.default.removeItem(atPath: "\(disk)/filler")
        try journal.commit()
        XCTAssertNil(journal.writeError)
        try checkEveryRecordIsOnDiskOrCounted(journal, events: 1)
    }

    /// The disk fills between the journal's start and its first reading (the agent's first poll):
    /// the readings wait in memory like any others, not dropped for want of a segment file.
    func testReadingsOfADiskThatFilledBeforeTheFirstOneWaitInMemory() throws {
        let journal = try Journal(directory: "\(disk)/journal", options: options, clock: ManualWallClock())
        try fillTheDisk()
        let errors = append(journal, batches: 1)
        XCTAssertEqual(errors.map(\.errno), [ENOSPC], "the disk refused the write")
        XCTAssertEqual(journal.cursor.dropped[.telemetry] ?? 0, 0, "held, not dropped")
        try FileManager.default.removeItem(atPath: "\(disk)/filler")
        try journal.commit()
        XCTAssertNil(journal.writeError)
        XCTAssertEqual(try readAll(journal, .telemetry).count, 500)
        try checkEveryRecordIsOnDiskOrCounted(journal, events: 0)
    }

    /// A gateway whose disk is already full when the journal starts (nothing of its own to drop):
    /// the journal opens (alarms come first), alarms wait in memory in order until the events lane
    /// can start a segment, and the cursor is written once there is room, so the next start finds it clean.
    func testAlarmsOfAJournalStartedOnAFullDiskWaitInMemoryUntilThereIsRoom() throws {
        try fillTheDisk()
        let journal = try Journal(directory: "\(disk)/journal", options: options, clock: ManualWallClock())
        XCTAssertTrue(journal.writeError?.contains("No space left") ?? false, journal.writeError ?? "nil")
        let first = journal.take([alarm]), second = journal.take([alarm, alarm])
        XCTAssertEqual([first.writeError?.errno, second.writeError?.errno], [ENOSPC, ENOSPC], "the disk refused them")
        XCTAssertEqual(journal.cursor.dropped[.events] ?? 0, 0, "held, not dropped")
        XCTAssertEqual(journal.stats.pending[.events], 3, "waiting, and shown as waiting")
        XCTAssertNotNil(journal.nextCommitDeadline, "the committer comes back for them")
        try FileManager.default.removeItem(atPath: "\(disk)/filler")
        try journal.commit()
        XCTAssertNil(journal.writeError)
        XCTAssertEqual(try readAll(journal, .events).map(\.seq), Array(first.seqs!) + Array(second.seqs!))
        XCTAssertNoThrow(try CursorFile(path: "\(disk)/journal/cursor").load().get(), "a crash now would find the cursor")
        try checkEveryRecordIsOnDiskOrCounted(journal, events: 3)
    }

    /// Restarted with a damaged cursor on a disk gone read-only (failing flash): the journal opens,
    /// alarms wait in memory, and all is written once the disk takes writes again.
    func testAJournalOnADiskGoneReadOnlyOpensAndHoldsItsAlarms() throws {
        do { // its files closed when it goes, or the disk cannot turn read-only
            let before = try Journal(directory: "\(disk)/journal", options: options, clock: ManualWallClock())
            XCTAssertNil(before.take([alarm]).writeError)
            try before.close()
        }
        try Array("damaged".utf8).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(disk)/journal/cursor")) }
        XCTAssertEqual(try runCommand("/bin/mount", ["-o", "remount,ro", disk]).status, 0)
        let journal = try Journal(directory: "\(disk)/journal", options: options, clock: ManualWallClock())
        XCTAssertNotNil(journal.recovery.cursorProblem)
        XCTAssertTrue(journal.writeError?.contains("Read-only") ?? false, journal.writeError ?? "nil")
        XCTAssertEqual(journal.take([alarm]).writeError?.errno, EROFS)
        XCTAssertEqual(journal.stats.pending[.events], 2, "the one on disk and the one held")
        XCTAssertEqual(try runCommand("/bin/mount", ["-o", "remount,rw", disk]).status, 0)
        try journal.commit()
        XCTAssertNil(journal.writeError)
        XCTAssertEqual(try readAll(journal, .events).count, 2)
        XCTAssertNoThrow(try CursorFile(path: "\(disk)/journal/cursor").load().get())
    }

    /// The disk fills right after the journal's first start: the forwarder can still mark what it
    /// sends and record what the upstream took (the cursor's two slots are on disk from the start),
    /// so the alarms on disk still go upstream.
    func testAFullDiskDoesNotStopTheCursorSoAlarmsOnDiskStillGoUpstream() throws {
        let journal = try Journal(directory: "\(disk)/journal", options: options, clock: ManualWallClock())
        let seqs = try XCTUnwrap(journal.take([alarm]).seqs)
        try fillTheDisk()
        XCTAssertNoThrow(try journal.markInFlight(.events, seqs))
        XCTAssertNoThrow(try journal.acknowledge(.events, through: seqs.upperBound))
        XCTAssertNoThrow(try CursorFile(path: "\(disk)/journal/cursor").load().get())
    }

    /// A disk filled by something else while the journal holds old readings: an alarm's write
    /// makes room by dropping the oldest of them (counted), so it is on disk and can go upstream.
    func testAnAlarmOnAFullDiskMakesRoomWithTheOldestTelemetry() throws {
        let journal = try Journal(directory: "\(disk)/journal", options: options, clock: ManualWallClock())
        XCTAssertEqual(append(journal, batches: 8).map(\.errno), [])
        try journal.commit()
        try fillTheDisk()
        // An event larger than a page: the room left in the events segment's last page is not enough.
        let large = Event(timestamp: WallTime(milliseconds: fixtureEpochMs, clockSynced: true), kind: .alarmRaised, device: "gas-1",
                          detail: String(repeating: "x", count: 6000))
        let taken = journal.take([.event(large)])
        XCTAssertNil(taken.writeError, "room was made")
        XCTAssertGreaterThan(journal.cursor.dropped[.telemetry] ?? 0, 0, "what made room is counted")
        XCTAssertEqual(try droppedInTheCursorFile(), journal.cursor.dropped[.telemetry], "counted at once: a crash now loses no count")
        XCTAssertEqual(try readAll(journal, .events).map(\.seq), [taken.seqs!.lowerBound], "durable: the forwarder can send it")
        try FileManager.default.removeItem(atPath: "\(disk)/filler")
        try checkEveryRecordIsOnDiskOrCounted(journal, events: 1)
    }

    /// A disk filled by something else, with nothing of ours to drop: an alarm the disk refuses still
    /// goes upstream, from memory, once its seq is reserved in the cursor; after a crash its seq is
    /// given to no other record (an upstream deduplicating by seq would drop that one).
    func testAnAlarmTheDiskRefusesGoesUpstreamFromMemoryAndKeepsItsSeq() throws {
        // Two gateways' journals on the disk: one is acknowledged, the other crashes before its answer.
        let delivered = try Journal(directory: "\(disk)/journal", options: options, clock: ManualWallClock())
        let crashing = try Journal(directory: "\(disk)/crashing", options: options, clock: ManualWallClock())
        try fillTheDisk()
        // Larger than a page: the room left in the events segment's last page is not enough.
        let large = Record.event(Event(timestamp: WallTime(milliseconds: fixtureEpochMs, clockSynced: true), kind: .alarmRaised,
                                       device: "gas-1", detail: String(repeating: "x", count: 6000)))
        var sent: [UInt64] = []
        for (journal, name) in [(delivered, "journal"), (crashing, "crashing")] {
            let taken = journal.take([large])
            XCTAssertEqual(taken.writeError?.errno, ENOSPC, "the disk refused it")
            let alarmSeq = try XCTUnwrap(taken.seqs?.lowerBound)
            let batcher = LaneBatcher(journal: journal, lane: .events, gateway: "gw", maxRecords: 500, maxBytes: 262_144)
            let batch = try XCTUnwrap(try batcher.next(requireFull: false), "it goes upstream though it is not on disk")
            XCTAssertEqual(batch.records.map(\.seq), [alarmSeq])
            XCTAssertGreaterThanOrEqual(try CursorFile(path: "\(disk)/\(name)/cursor").load().get().seqFloor, alarmSeq, "its seq is reserved before it is sent")
            sent.append(alarmSeq)
            if journal === delivered {
                try batcher.acknowledge(batch)
                XCTAssertEqual(journal.pending(.events), 0, "delivered: it waits no more")
                XCTAssertNil(try batcher.next(requireFull: false), "and is not sent again")
            }
        }
        // The other crashes before the upstream's answer (the alarm never reached its disk) and starts again with room.
        try FileManager.default.removeItem(atPath: "\(disk)/filler")
        let restarted = try Journal(directory: "\(disk)/crashing", options: options, clock: ManualWallClock())
        XCTAssertGreaterThan(try XCTUnwrap(restarted.take([reading(1)]).seqs?.lowerBound), sent[1], "its seq is not given again")
    }

    /// Restarted on a full disk with old readings on it: they make room for the new ones (counted), as the quota does.
    func testAJournalReopenedOnAFullDiskMakesRoomWithItsOldestTelemetry() throws {
        let first = try Journal(directory: "\(disk)/journal", options: options, clock: ManualWallClock())
        XCTAssertEqual(append(first, batches: 20).map(\.errno), [])
        try first.close()
        try fillTheDisk()
        let journal = try Journal(directory: "\(disk)/journal", options: options, clock: ManualWallClock())
        XCTAssertEqual(append(journal, batches: 1).map(\.errno), [], "old telemetry made room")
        XCTAssertGreaterThan(journal.cursor.dropped[.telemetry] ?? 0, 0, "what made room is counted")
        XCTAssertEqual(try droppedInTheCursorFile(), journal.cursor.dropped[.telemetry], "counted at once: a crash now loses no count")
        try journal.commit()
        XCTAssertEqual(try readAll(journal, .telemetry).last?.seq, journal.stats.lastSeq, "the new readings are kept")
        try FileManager.default.removeItem(atPath: "\(disk)/filler")
        try checkEveryRecordIsOnDiskOrCounted(journal, events: 0)
    }
}

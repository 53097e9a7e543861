import Foundation
import XCTest
@testable import VigilCore
import VigilTestSupport

/// Everything readable in a lane, from the start.
func readAll(_ journal: Journal, _ lane: JournalLane, after: UInt64 = 0) throws -> [StoredRecord] {
    let reader = JournalReader(journal: journal, lane: lane)
    var out: [StoredRecord] = []
    var last = after
    while true {
        let batch = try reader.read(after: last, maxRecords: 1000)
        if batch.isEmpty { return out }
        out += batch
        last = batch.last!.seq
    }
}

final class JournalTests: XCTestCase {
    var dir: String!
    override func setUp() { dir = temporaryDirectory() + "/journal" }

    func testTheStringTableFindsEveryStringThroughGrowthAndReset() {
        var table = StringIDTable(capacity: 4)
        let texts = (0..<1000).map { "point-\($0)" } + ["", "gas", "a much longer device name than fits inline in a string"]
        for (i, text) in texts.enumerated() { table.insert(text, hash: StringIDTable.hash(text), id: UInt64(i)) }
        XCTAssertEqual(table.count, texts.count)
        for (i, text) in texts.enumerated() { XCTAssertEqual(table.find(text, hash: StringIDTable.hash(text)), UInt64(i), text) }
        XCTAssertNil(table.find("point-1000", hash: StringIDTable.hash("point-1000")))
        // Names that differ in one byte spread over the slots (no pile-up in one probe chain).
        let slots = Set((1...100).map { Int(truncatingIfNeeded: StringIDTable.hash("gas-\($0)")) & 255 })
        XCTAssertGreaterThan(slots.count, 60)
        // Equal hashes alone do not match: the text is compared too.
        XCTAssertNil(table.find("not gas", hash: StringIDTable.hash("gas")))
        table.removeAll()
        XCTAssertEqual(table.count, 0)
        XCTAssertNil(table.find("gas", hash: StringIDTable.hash("gas")))
    }

    /// The forwarder's reader looks ahead (the oldest record, a full batch that may not be there yet)
    /// without losing its place: every read after that still returns exactly the records asked for.
    func testAReaderThatLooksAheadStillReadsEveryRecordInOrder() throws {
        var options = JournalOptions()
        options.segmentBytes = 2048
        let journal = try Journal(directory: dir, options: options)
        try journal.append((1...200).map { reading($0) })
        try journal.commit()
        XCTAssertGreaterThan(directoryEntries("\(dir!)/telemetry").count, 2, "several segments")
        let reader = JournalReader(journal: journal, lane: .telemetry)
        XCTAssertEqual(try reader.read(after: 0, maxRecords: 10).map(\.seq), Array(1...10))
        XCTAssertEqual(try reader.peek(after: 10)?.seq, 11)
        XCTAssertNil(try reader.read(after: 10, exactly: 191), "only 190 are there")
        XCTAssertEqual(try reader.read(after: 10, exactly: 20)?.map(\.seq), Array(11...30))
        XCTAssertEqual(try reader.peek(after: 30)?.seq, 31)
        XCTAssertEqual(try reader.read(after: 30, maxRecords: 170).map(\.seq), Array(31...200), "across segments")
        XCTAssertEqual(try reader.read(after: 5, maxRecords: 3).map(\.seq), [6, 7, 8], "back: a batch sent again")
        XCTAssertEqual(try reader.read(after: 40, maxRecords: 2).map(\.seq), [41, 42], "ahead: acknowledged past")
        XCTAssertNil(try reader.peek(after: 200))
    }

    /// A look ahead that runs into the next segment and comes back short puts the reader back in
    /// the segment it stood in: the next read goes on from there instead of opening that segment again.
    func testALookAheadIntoTheNextSegmentLeavesTheReaderWhereItWas() throws {
        var options = JournalOptions()
        options.segmentBytes = 2048
        let journal = try Journal(directory: dir, options: options)
        try journal.append((1...200).map { reading($0) })
        try journal.commit()
        let reader = JournalReader(journal: journal, lane: .telemetry)
        let first = try reader.read(after: 0, maxRecords: 10)
        XCTAssertEqual(first.map(\.seq), Array(1...10))
        let opened = reader.seeks
        XCTAssertNil(try reader.read(after: 10, exactly: 191), "only 190 are there, across several segments")
        XCTAssertEqual(try reader.read(after: 10, maxRecords: 5).map(\.seq), Array(11...15))
        XCTAssertEqual(reader.seeks, opened, "no segment scanned again to come back")
        XCTAssertEqual(try reader.read(after: 15, maxRecords: 185).map(\.record), try readAll(journal, .telemetry).dropFirst(15).map(\.record),
                       "every record after, decoded with its own segment's dictionary")
    }

    func testRoundTripKeepsEveryFieldAndSplitsTheLanes() throws {
        let journal = try Journal(directory: dir)
        let records: [Record] = [
            reading(1), event(2),
            reading(3, value: .int(-42)), reading(4, value: .uint(UInt64.max)), reading(5, value: .double(123.456)),
            reading(6, value: .bool(true)), reading(7, value: .string("XNX \"quoted\"")), reading(8, quality: .bad),
            .reading(Reading(timestamp: WallTime(milliseconds: 0, clockSynced: false), device: "d", point: "c", value: .bool(false),
                             raw: .bit(true), unit: nil, label: "closed", quality: .good, error: nil)),
        ]
        XCTAssertEqual(try journal.append(records), 1...9)
        try journal.commit()
        let telemetry = try readAll(journal, .telemetry)
        let events = try readAll(journal, .events)
        XCTAssertEqual(events.map(\.seq), [2])
        XCTAssertEqual(events.map(\.record), [records[1]])
        XCTAssertEqual(telemetry.map(\.seq), [1, 3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(telemetry.map(\.record), records.enumerated().filter { $0.offset != 1 }.map(\.element))
    }

    func testEveryShapeOfRawRoundTripsExactly() throws {
        // Nothing, a bit, words packed inline (up to four) and longer runs (a string point, the most one read returns).
        let raws: [RawRegisters] = [RawRegisters(words: [0x41bb, 0]), RawRegisters(words: [1]), RawRegisters(words: [0x41bb, 0, 0xffff]),
                                    RawRegisters(words: [0xffff, 0x8000, 1, 2]), RawRegisters(words: Array(0..<5)),
                                    RawRegisters(words: (0..<125).map { UInt16($0 * 521 % 65536) }), .none, .bit(false), .bit(true)]
        let journal = try Journal(directory: dir)
        let records = raws.enumerated().map { n, raw in
            Record.reading(Reading(timestamp: WallTime(milliseconds: Int64(n), clockSynced: true), device: "d", point: "p",
                                   value: .int(Int64(n)), raw: raw, unit: nil, label: nil, quality: .good, error: nil))
        }
        try journal.append(records)
        try journal.commit()
        XCTAssertEqual(try readAll(journal, .telemetry).map(\.record), records)
    }

    func testSeqContinuesAcrossRestartsAndAcknowledgedDeletions() throws {
        var options = JournalOptions()
        options.segmentBytes = 4096
        do {
            let journal = try Journal(directory: dir, options: options)
            try journal.append((1...300).map { reading($0) })
            try journal.commit()
            try journal.acknowledge(.telemetry, through: 300)
            try journal.close()
        }
        let files = directoryEntries("\(dir!)/telemetry")
        XCTAssertLessThanOrEqual(files.count, 1, "acknowledged segments are deleted: \(files)")
        let reopened = try Journal(directory: dir, options: options)
        XCTAssertTrue(reopened.recovery.isClean, reopened.recovery.summary)
        XCTAssertEqual(try reopened.append([reading(1)]), 301...301, "seq never goes back, even with nothing left on disk")
    }

    func testRecordsSpanManySegmentsAndEachDecodesOnItsOwn() throws {
        var options = JournalOptions()
        options.segmentBytes = 2048
        let journal = try Journal(directory: dir, options: options)
        for chunk in 0..<10 { try journal.append((1...50).map { reading(chunk * 50 + $0, device: "dev-\($0 % 7)") }) }
        try journal.commit()
        XCTAssertGreaterThan(directoryEntries("\(dir!)/telemetry").count, 5)
        let all = try readAll(journal, .telemetry)
        XCTAssertEqual(all.map(\.seq), Array(1...500))
        // Reading from the middle of a segment needs that segment's dictionary.
        let tail = try readAll(journal, .telemetry, after: 437)
        XCTAssertEqual(tail.first?.seq, 438)
        XCTAssertEqual(tail.first?.record, reading(8 * 50 + 38, device: "dev-\(38 % 7)"))
    }

    func testOnlyFsyncedRecordsAreReadable() throws {
        var options = JournalOptions()
        options.commitMs = 60_000
        let journal = try Journal(directory: dir, options: options)
        try journal.append((1...10).map { reading($0) })
        XCTAssertEqual(try readAll(journal, .telemetry).count, 0, "not fsynced yet: not accepted, not sent")
        try journal.append([event(11)])
        XCTAssertEqual(try readAll(journal, .events).map(\.seq), [11], "events are fsynced at once")
        try journal.commit()
        XCTAssertEqual(try readAll(journal, .telemetry).count, 10)
    }

    func testBytesOnDiskPerReading() throws {
        let journal = try Journal(directory: dir)
        try journal.append((1...10_000).map { reading($0, device: "gas-\($0 % 50)") })
        try journal.commit()
        let perReading = Double(journal.stats.bytesWritten) / 10_000
        XCTAssertLessThanOrEqual(perReading, 64, "flash wear: \(perReading) bytes a reading")
    }

    func testQuotaDropsOldestTelemetryKeepsEventsAndCounts() throws {
        var options = JournalOptions()
        options.segmentBytes = 4096
        options.maxBytes = 64 * 1024
        let journal = try Journal(directory: dir, options: options)
        for n in stride(from: 1, through: 20_000, by: 100) {
            try journal.append((n..<n + 99).map { reading($0) } + [event(n + 99)])
        }
        try journal.commit()
        let stats = journal.stats
        XCTAssertLessThanOrEqual(stats.bytes, options.maxBytes + options.segmentBytes, "quota holds (within one segment being written)")
        let events = try readAll(journal, .events)
        XCTAssertEqual(events.count, 200, "no event is dropped for telemetry")
        let telemetry = try readAll(journal, .telemetry)
        let dropped = stats.dropped[.telemetry] ?? 0
        XCTAssertGreaterThan(dropped, 0)
        XCTAssertEqual(UInt64(telemetry.count) + dropped, 19_800, "every reading is delivered or counted as dropped")
        XCTAssertEqual(telemetry.last?.seq, 19_999, "the newest stay")
        XCTAssertEqual(telemetry.map(\.seq), telemetry.map(\.seq).sorted())
        // The counts survive a restart.
        try journal.close()
        XCTAssertEqual(try Journal(directory: dir, options: options).cursor.dropped[.telemetry], dropped)
    }

    /// A power cut spoils what was written since the last fsync: here, the cursor slot that
    /// is not the durable one, torn. What an unsynced acknowledgement loses is sent again.
    func tearTheUnsyncedCursorSlot(_ journal: Journal) throws {
        let durable = try XCTUnwrap(journal.durableCursorSlot)
        let file = try XCTUnwrap(FileHandle(forWritingAtPath: "\(dir!)/cursor"))
        try file.seek(toOffset: UInt64((1 - durable) * CursorFile.slotSize))
        file.write(Data(repeating: 0xA5, count: CursorFile.slotSize))
        try file.close()
    }

    func testAnAcknowledgementIsDurableAtOnceOnlyWhenASegmentGoes() throws {
        var options = JournalOptions()
        options.segmentBytes = 4096
        do {
            let journal = try Journal(directory: dir, options: options)
            try journal.append((1...300).map { reading($0) })
            try journal.commit()
            // Within the interval of the cursor's creation, and on segments that stay: not fsynced yet.
            try journal.acknowledge(.telemetry, through: 5)
            try journal.acknowledge(.telemetry, through: 9)
            try tearTheUnsyncedCursorSlot(journal)
        }
        do {
            let journal = try Journal(directory: dir, options: options)
            XCTAssertEqual(journal.cursor.acked[.telemetry] ?? 0, 0, "the power cut took the unsynced acknowledgements: 1…9 go again, nothing is lost")
            XCTAssertEqual(try readAll(journal, .telemetry, after: 0).first?.seq, 1)
            let segments = directoryEntries("\(dir!)/telemetry").count
            try journal.acknowledge(.telemetry, through: 300) // deletes segments: fsynced before they go
            XCTAssertLessThan(directoryEntries("\(dir!)/telemetry").count, segments)
            try tearTheUnsyncedCursorSlot(journal)
        }
        let journal = try Journal(directory: dir, options: options)
        XCTAssertEqual(journal.cursor.acked[.telemetry], 300, "what deleted segments is never taken back by a power cut")
        XCTAssertEqual(try journal.append([reading(1)]), 301...301, "so no seq is reused")
    }

    func testCursorInFlightAndAcksSurviveRestart() throws {
        do {
            let journal = try Journal(directory: dir)
            try journal.append((1...20).map { reading($0) })
            try journal.commit()
            try journal.acknowledge(.telemetry, through: 5)
            try journal.markInFlight(.telemetry, 6...12)
        }
        let journal = try Journal(directory: dir)
        XCTAssertEqual(journal.cursor.acked[.telemetry], 5)
        XCTAssertEqual(journal.cursor.inFlight[.telemetry], 6...12)
        XCTAssertEqual(try readAll(journal, .telemetry, after: 5).first?.seq, 6)
    }
}

/// Damage on disk, table-driven: what survives, exactly.
final class JournalCorruptionTests: XCTestCase {
    var dir: String!
    let count = 20

    /// A journal with `count` readings in one telemetry segment; returns the segment's path and frame offsets.
    func makeJournal() throws -> (path: String, frames: [Range<Int>]) {
        dir = temporaryDirectory() + "/journal"
        let journal = try Journal(directory: dir)
        try journal.append((1...count).map { reading($0) })
        try journal.close()
        let name = directoryEntries("\(dir!)/telemetry").first!
        let path = "\(dir!)/telemetry/\(name)"
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var frames: [Range<Int>] = []
        var offset = JournalFormat.segmentHeaderSize
        while offset < bytes.count {
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16
            let seq = bytes[(offset + 8)..<(offset + 16)].reversed().reduce(0) { $0 << 8 | Int($1) }
            if seq != 0 { frames.append(offset..<(offset + 16 + length)) } // reading frames only
            offset += 16 + length
        }
        XCTAssertEqual(frames.count, count)
        return (path, frames)
    }

    func survivors() throws -> (seqs: [UInt64], report: JournalRecoveryReport) {
        let journal = try Journal(directory: dir)
        let seqs = try readAll(journal, .telemetry).map(\.seq)
        // The journal is usable after recovery: the next seq is past everything seen.
        let next = try journal.append([reading(99)])!.lowerBound
        XCTAssertGreaterThan(next, seqs.last ?? 0)
        return (seqs, journal.recovery)
    }

    func testTruncatingTheLastRecordAtEveryOffsetLosesOnlyIt() throws {
        let probe = try makeJournal()
        let last = probe.frames.last!
        for cut in last.lowerBound..<last.upperBound {
            let (path, _) = try makeJournal()
            truncate(path, off_t(cut))
            let (seqs, report) = try survivors()
            XCTAssertEqual(seqs, Array(1...UInt64(count - 1)), "cut at \(cut)")
            XCTAssertEqual(report.truncatedBytes, UInt64(cut - last.lowerBound), "cut at \(cut)")
            XCTAssertEqual(report.corruptRecords, 0)
        }
    }

    func testAFlippedByteInAMiddleRecordLosesOnlyThatRecord() throws {
        let probe = try makeJournal()
        let middle = probe.frames[count / 2]
        // Every byte of the frame: length, CRC, seq and body.
        for position in middle {
            let (path, _) = try makeJournal()
            let file = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try file.seek(toOffset: UInt64(position))
            let byte = try file.read(upToCount: 1)![0]
            try file.seek(toOffset: UInt64(position))
            file.write(Data([byte ^ 0x5A]))
            try file.close()
            let (seqs, report) = try survivors()
            XCTAssertEqual(seqs, (1...UInt64(count)).filter { $0 != UInt64(count / 2 + 1) }, "flip at \(position - middle.lowerBound)")
            XCTAssertEqual(report.corruptRecords, 1, "flip at \(position - middle.lowerBound)")
        }
    }

    func testAZeroFilledTailIsCutOff() throws {
        let (path, _) = try makeJournal()
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try file.seekToEnd()
        file.write(Data(count: 8192))
        try file.close()
        let (seqs, report) = try survivors()
        XCTAssertEqual(seqs, Array(1...UInt64(count)))
        XCTAssertEqual(report.truncatedBytes, 8192)
    }

    func testAMissingCursorResendsEverythingStillThere() throws {
        _ = try makeJournal()
        let journal = try Journal(directory: dir)
        try journal.acknowledge(.telemetry, through: 7)
        try FileManager.default.removeItem(atPath: "\(dir!)/cursor")
        let (seqs, report) = try survivors()
        XCTAssertEqual(seqs, Array(1...UInt64(count)), "acknowledged records still on disk are sent again, none lost")
        XCTAssertTrue(report.cursorProblem?.contains("missing") ?? false)
    }

    func testACorruptCursorIsSetAsideAndEverythingIsResent() throws {
        _ = try makeJournal()
        let journal = try Journal(directory: dir)
        try journal.acknowledge(.telemetry, through: 7)
        try "vigil-journal-cursor 1\nacked.telemetry 9999\ncrc 12345\n".write(toFile: "\(dir!)/cursor", atomically: true, encoding: .utf8)
        let (seqs, report) = try survivors()
        XCTAssertEqual(seqs, Array(1...UInt64(count)))
        XCTAssertTrue(report.cursorProblem?.contains("unreadable") ?? false, "\(String(describing: report.cursorProblem))")
    }

    func testAnUnreadableSegmentIsMovedAsideAndTheRestKept() throws {
        _ = try makeJournal()
        try Data("this is not a journal segment at all, just text".utf8).write(to: URL(fileURLWithPath: "\(dir!)/telemetry/00000000000000000000.seg"))
        let (seqs, report) = try survivors()
        XCTAssertEqual(seqs, Array(1...UInt64(count)))
        XCTAssertEqual(report.movedAside.count, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir!)/corrupt/telemetry-00000000000000000000.seg"))
    }

    func testAnEmptySegmentFromAPowerCutAtCreationIsRemoved() throws {
        _ = try makeJournal()
        FileManager.default.createFile(atPath: "\(dir!)/telemetry/00000000000000000021.seg", contents: Data())
        let (seqs, report) = try survivors()
        XCTAssertEqual(seqs, Array(1...UInt64(count)))
        XCTAssertTrue(report.movedAside.isEmpty)
    }
}

final class JournalReaderTests: XCTestCase {
    func testReadingThroughASeqLeavesTheNextRecordForTheNextRead() throws {
        let journal = try Journal(directory: temporaryDirectory() + "/journal")
        try journal.append((1...10).map { reading($0) })
        try journal.commit()
        let reader = JournalReader(journal: journal, lane: .telemetry)
        XCTAssertEqual(try reader.read(after: 0, through: 4, maxRecords: 100).map(\.seq), [1, 2, 3, 4])
        XCTAssertEqual(try reader.read(after: 4, maxRecords: 3).map(\.seq), [5, 6, 7])
        XCTAssertEqual(try reader.read(after: 7, maxRecords: 100).map(\.seq), [8, 9, 10])
        try journal.append((11...12).map { reading($0) })
        try journal.commit()
        XCTAssertEqual(try reader.read(after: 10, maxRecords: 100).map(\.seq), [11, 12], "records appended later to the same segment")
        XCTAssertEqual(try reader.read(after: 2, maxRecords: 2).map(\.seq), [3, 4], "a reader can go back (a batch resent)")
    }
}

final class JournalPiecesTests: XCTestCase {
    func testCRC32CKnownAnswers() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        let text = Array("The quick brown fox jumps over the lazy dog, then again and again".utf8)
        // Chained over two pieces = over the whole.
        let split = text.withUnsafeBytes { b in CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[13...]), seed: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[..<13]))) }
        XCTAssertEqual(split, CRC32C.checksum(text))
    }

    func testTheCPUInstructionAndTheTableAgreeAtEveryLengthAndAlignment() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { all in
            for start in 0..<9 {
                for end in stride(from: start, through: all.count, by: 7) {
                    let piece = UnsafeRawBufferPointer(rebasing: all[start..<end])
                    XCTAssertEqual(CRC32C.checksum(piece, seed: 0x1234), CRC32C.tableChecksum(piece, seed: 0x1234), "bytes \(start)..<\(end)")
                }
            }
        }
        XCTAssertEqual(Array("123456789".utf8).withUnsafeBytes { CRC32C.tableChecksum($0) }, 0xE306_9283)
    }

    /// A crash can leave the newest cursor unsynced; the next run fsyncs what it read and
    /// never writes over that slot until another is durable.
    func testARunNeverWritesOverTheSlotItReadItsCursorFrom() throws {
        let path = temporaryDirectory() + "/cursor"
        let hour: Int64 = 3_600_000_000_000
        var cursor = JournalCursor()
        cursor.generation = 1
        let first = CursorFile(path: path)
        try first.store(cursor) // a new file: slot 0, fsynced
        cursor.generation = 2
        cursor.acked[.telemetry] = 7
        try first.store(cursor, .within(nanoseconds: hour)) // slot 1, not fsynced: then the crash
        XCTAssertEqual(first.durableSlot, 0)

        let next = CursorFile(path: path)
        guard case .success(let loaded) = next.load() else { return XCTFail("the cursor loads") }
        XCTAssertEqual(loaded.acked[.telemetry], 7)
        XCTAssertEqual(next.durableSlot, 1, "what was read is the durable slot now")
        let slotOne = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))[4096..<8192]
        cursor.generation = 3
        cursor.acked[.telemetry] = 9
        try next.store(cursor, .within(nanoseconds: hour))
        XCTAssertEqual(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))[4096..<8192], slotOne, "slot 1 untouched")
        guard case .success(let newest) = CursorFile(path: path).load() else { return XCTFail() }
        XCTAssertEqual(newest.acked[.telemetry], 9, "the newest is still found by its generation")
    }

    func testATornCursorSlotFallsBackToThePreviousCursor() throws {
        let dir = temporaryDirectory() + "/journal"
        var options = JournalOptions()
        options.cursorSyncMs = 0 // every acknowledgement fsynced: the slots alternate
        do {
            let journal = try Journal(directory: dir, options: options)
            try journal.append((1...10).map { reading($0) })
            try journal.commit()
            try journal.acknowledge(.telemetry, through: 4)
            try journal.acknowledge(.telemetry, through: 8)
        }
        // Tear the newest slot: which one holds ack 8 depends on its generation.
        let path = "\(dir)/cursor"
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let slots = [0, 4096].filter { bytes[$0..<($0 + 4096)].starts(with: Array("vigil".utf8)) }
        let newest = slots.max { String(decoding: bytes[$0..<($0 + 200)], as: UTF8.self) < String(decoding: bytes[$1..<($1 + 200)], as: UTF8.self) }!
        let withAck8 = slots.first { String(decoding: bytes[$0..<($0 + 4096)], as: UTF8.self).contains("acked.telemetry 8") }!
        XCTAssertEqual(newest, withAck8)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64(withAck8 + 40))
        handle.write(Data([0xFF, 0xFF, 0xFF]))
        try handle.close()
        let journal = try Journal(directory: dir)
        XCTAssertEqual(journal.cursor.acked[.telemetry], 4, "the slot before survives a torn write")
        XCTAssertNil(journal.recovery.cursorProblem)
    }
}

final class JournalAgeTests: XCTestCase {
    func testTelemetryOlderThanMaxAgeIsDroppedAndCounted() throws {
        var options = JournalOptions()
        options.segmentBytes = 4096
        options.maxAgeSeconds = 3600
        // "Now" is an hour after the fixtures' time, whatever the date: they are recent, the others old.
        let clock = ManualWallClock(milliseconds: fixtureEpochMs + 3600 * 1000 - 1000)
        let journal = try Journal(directory: temporaryDirectory() + "/journal", options: options, clock: clock)
        let twoHoursAgo = clock.now().milliseconds - 2 * 3600 * 1000
        let old: [Record] = (1...300).map { n in
            .reading(Reading(timestamp: WallTime(milliseconds: twoHoursAgo + Int64(n), clockSynced: true), device: "d", point: "p",
                             value: .int(Int64(n)), raw: RawRegisters(words: [0x0001]), unit: nil, label: nil, quality: .good, error: nil))
        }
        try journal.append(old)
        try journal.append((301...600).map { reading($0) })
        try journal.commit()
        let left = try readAll(journal, .telemetry)
        let dropped = journal.stats.dropped[.telemetry] ?? 0
        XCTAssertGreaterThan(dropped, 200, "old segments go (whole segments: one that also holds newer records stays)")
        XCTAssertEqual(UInt64(left.count) + dropped, 600)
        XCTAssertTrue(left.filter { $0.seq > 300 }.count == 300, "nothing recent is dropped")
    }
}

final class JournalClockTests: XCTestCase {
    /// The age limit follows the injected clock, not the machine's date.
    func testMaxAgeIsDecidedAgainstTheInjectedClock() throws {
        var options = JournalOptions()
        options.segmentBytes = 4096
        options.maxAgeSeconds = 3600
        let clock = ManualWallClock()
        let journal = try Journal(directory: temporaryDirectory() + "/journal", options: options, clock: clock)
        try journal.append((1...300).map { reading($0) })
        try journal.commit()
        XCTAssertEqual(journal.stats.dropped[.telemetry] ?? 0, 0, "fresh by the clock")
        clock.advance(seconds: 2 * 3600)
        try journal.append([reading(301, at: clock.now())])
        try journal.commit()
        XCTAssertGreaterThan(journal.stats.dropped[.telemetry] ?? 0, 200, "two hours later by the clock, the old segments go")
    }
}

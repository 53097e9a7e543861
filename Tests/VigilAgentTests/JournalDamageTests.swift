import Foundation
import XCTest
import VigilCore
import VigilAgent
import VigilTestSupport

/// Damage that takes records with it is counted, however it shows.
final class JournalDamageTests: XCTestCase {
    func segment(_ dir: String, _ lane: JournalLane) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/\(lane.rawValue)").filter { $0.hasSuffix(".seg") }.sorted()
        return "\(dir)/\(lane.rawValue)/\(try XCTUnwrap(names.first))"
    }

    func flip(_ path: String, at offset: Int) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[offset] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    func testASegmentMovedAsideCountsItsRecords() throws {
        let dir = "\(temporaryDirectory())/journal"
        let journal = try Journal(directory: dir, clock: ManualWallClock())
        try journal.append((1...50).map { reading($0) })
        try journal.close()
        try flip(try segment(dir, .telemetry), at: 0) // the header's magic
        let reopened = try Journal(directory: dir, clock: ManualWallClock())
        XCTAssertEqual(reopened.recovery.movedAside.count, 1, reopened.recovery.summary)
        XCTAssertEqual(reopened.cursor.corruptRecords, 50, "every record in the file set aside is counted")
    }

    /// Bytes of the first dictionary frame: frame header, kind, id, "gas-1".
    static let firstEntrySize = 16 + 1 + 1 + 5

    func testOneDamagedDictionaryCopyLosesNoRecord() throws {
        let dir = temporaryDirectory()
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        try journal.append((1...50).map { reading($0, device: "gas-1") } + (51...80).map { reading($0, device: "level-1") })
        try journal.close()
        // A byte inside the first copy of the entry naming "gas-1": its twin still holds the string.
        try flip(try segment("\(dir)/journal", .telemetry), at: 16 + 16 + 2)
        let reopened = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        let upstream = RefusingUplink(.delivered)
        let forwarder = Forwarder(journal: reopened, uplink: upstream, gateway: "gw", batching: UplinkBatching(flushMs: 20),
                                  deadLetterDirectory: "\(dir)/dead-letter", log: Logger(threshold: .error))
        forwarder.start()
        XCTAssertTrue(eventually { reopened.stats.pending[.telemetry] == 0 })
        forwarder.stop()
        XCTAssertEqual(upstream.records, 80, "every record decodes with the entry's copy")
        XCTAssertEqual(reopened.cursor.corruptRecords, 0, "a damaged copy is no lost record: \(reopened.recovery.summary)")
    }

    func testADamagedDictionaryEntryCountsEveryRecordItTakes() throws {
        let dir = temporaryDirectory()
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        // The first two frames of the segment are the copies of the entry naming the first device.
        try journal.append((1...50).map { reading($0, device: "gas-1") } + (51...80).map { reading($0, device: "level-1") })
        try journal.close()
        // A byte inside each copy's body: both CRCs fail, and the string they defined is gone.
        let path = try segment("\(dir)/journal", .telemetry)
        try flip(path, at: 16 + 16 + 2)
        try flip(path, at: 16 + Self.firstEntrySize + 16 + 2)
        let reopened = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        XCTAssertEqual(reopened.recovery.corruptRecords, 0, "recovery sees two bad dictionary frames, no record: \(reopened.recovery.summary)")
        let upstream = RefusingUplink(.delivered)
        let forwarder = Forwarder(journal: reopened, uplink: upstream, gateway: "gw", batching: UplinkBatching(flushMs: 20),
                                  deadLetterDirectory: "\(dir)/dead-letter", log: Logger(threshold: .error))
        forwarder.start()
        XCTAssertTrue(eventually { reopened.stats.pending[.telemetry] == 0 })
        forwarder.stop()
        XCTAssertEqual(upstream.records, 30, "the records of gas-1 are lost, level-1's arrive")
        XCTAssertEqual(reopened.cursor.corruptRecords, 50, "each record the entry took is counted, once")
    }

    func testADamagedRecordFrameNextToADictionaryEntryIsCounted() throws {
        let dir = "\(temporaryDirectory())/journal"
        let journal = try Journal(directory: dir, clock: ManualWallClock())
        try journal.append((1...10).map { reading($0, device: "gas-1") })
        try journal.close()
        // The frame after the copies of "gas-1", "gas" and "%LEL" is the first reading.
        let path = try segment(dir, .telemetry)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        var offset = 16
        while bytes[offset + 8..<offset + 16].allSatisfy({ $0 == 0 }) {
            offset += 16 + (Int(bytes[offset]) | Int(bytes[offset + 1]) << 8)
        }
        try flip(path, at: offset + 16 + 2)
        let reopened = try Journal(directory: dir, clock: ManualWallClock())
        XCTAssertEqual(reopened.recovery.corruptRecords, 1, reopened.recovery.summary)
    }
}

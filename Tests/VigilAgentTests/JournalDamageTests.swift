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

    func testADamagedDictionaryEntryCountsEveryRecordItTakes() throws {
        let dir = temporaryDirectory()
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        // The first frame of the segment is the dictionary entry naming the first device.
        try journal.append((1...50).map { reading($0, device: "gas-1") } + (51...80).map { reading($0, device: "level-1") })
        try journal.close()
        // A byte inside the first frame's body: its CRC fails, and the string it defined is gone.
        try flip(try segment("\(dir)/journal", .telemetry), at: 16 + 16 + 2) // segment header, frame header, then the body
        let reopened = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        XCTAssertEqual(reopened.recovery.corruptRecords, 1, "recovery sees one bad frame: \(reopened.recovery.summary)")
        let upstream = RefusingUplink(.delivered)
        let forwarder = Forwarder(journal: reopened, uplink: upstream, gateway: "gw", flushMs: 20,
                                  deadLetterDirectory: "\(dir)/dead-letter", log: Logger(threshold: .error))
        forwarder.start()
        XCTAssertTrue(eventually { reopened.stats.pending[.telemetry] == 0 })
        forwarder.stop()
        let lost = 80 - upstream.records
        XCTAssertGreaterThan(lost, 0, "the damaged entry took records with it")
        XCTAssertEqual(reopened.cursor.corruptRecords, UInt64(lost) + 1, "each record it took, plus the entry's own frame")
    }
}

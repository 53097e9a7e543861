import XCTest
import VigilCore
@testable import VigilAgent

final class StartUpPagesTests: XCTestCase {
    func testStartUpIsOverAtTheFirstDeliveryOrAfterAMinute() {
        let startUp = StartUpPages(now: 5_000_000_000, delivered: 7)
        XCTAssertFalse(startUp.isOver(now: 6_000_000_000, delivered: 7), "nothing delivered since, a second in")
        XCTAssertTrue(startUp.isOver(now: 6_000_000_000, delivered: 8), "a batch delivered since")
        XCTAssertFalse(startUp.isOver(now: 64_999_999_999, delivered: 7))
        XCTAssertTrue(startUp.isOver(now: 65_000_000_000, delivered: 7), "an uplink that cannot deliver: a minute")
    }

    /// In this very process: the pages go, and the code and constants in them still work.
    func testReleasingUnmapsCodePagesThatStillRunAfterwards() throws {
        let rssBefore = try residentKiB()
        let line = StartUpPages.release()
        let released = try XCTUnwrap(Int(line.split(separator: " ").first { Int($0) != nil } ?? ""), line)
        XCTAssertGreaterThan(released, 0, line)
        XCTAssertLessThan(try residentKiB(), rssBefore, line)
        // Code of this binary, of the Swift runtime and of Foundation, and their relocated constants.
        let encoded = try JSONEncoder().encode(["gas": 2.5])
        XCTAssertEqual(String(decoding: encoded, as: UTF8.self), #"{"gas":2.5}"#)
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283, "the CRC-32C check value")
        XCTAssertEqual(AlarmLevel.allCases.count, AlarmLevel.allCases.map(\.rawValue).count)
    }

    private func residentKiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try XCTUnwrap(Int(line.split(separator: " ")[1]))
    }
}

import Glibc
import XCTest
import VigilCore

final class WallTimeTests: XCTestCase {
    /// The C library's answer, for comparison.
    func reference(_ ms: Int64) -> String {
        var seconds = time_t(ms / 1000)
        var millis = Int(ms % 1000)
        if millis < 0 { millis += 1000; seconds -= 1 }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(v).count)) + String(v) }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    func testFormatsLikeGmtimeAcrossLeapYearsCenturiesAndBefore1970() {
        let known: [Int64] = [0, -1, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000 /* 2000-02-29 */, 4_107_542_399_999 /* 2100-02-28 end */,
                              4_107_542_400_000, 1_795_900_000_123, 1_704_067_200_000, -86_400_001, 253_402_300_799_999 /* 9999-12-31 */]
        for ms in known { XCTAssertEqual(WallTime(milliseconds: ms, clockSynced: true).iso8601, reference(ms), "\(ms)") }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let ms = Int64.random(in: -2_208_988_800_000...253_402_300_799_999, using: &generator) // 1900…9999
            XCTAssertEqual(WallTime(milliseconds: ms, clockSynced: true).iso8601, reference(ms), "\(ms)")
        }
    }

    func testAppendWritesTheSameBytes() {
        var out: [UInt8] = Array("x".utf8)
        let t = WallTime(milliseconds: 1_795_900_000_123, clockSynced: false)
        t.appendISO8601(to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "x" + t.iso8601)
        XCTAssertEqual(t.iso8601, "2026-11-28T21:06:40.123Z")
    }
}

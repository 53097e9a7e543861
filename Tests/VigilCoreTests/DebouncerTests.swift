import XCTest
@testable import VigilCore

final class DebouncerTests: XCTestCase {
    let ms: Int64 = 1_000_000

    /// Feeds edges at (ms, rising) and settles at `end`; returns the stable changes seen.
    func changes(_ edges: [(Int64, Bool)], end: Int64, debounceMs: Int = 50, initial: Bool = false) -> [Bool] {
        var d = Debouncer(initial: initial, debounceMs: debounceMs)
        var out: [Bool] = []
        for (t, rising) in edges { if let s = d.feed(LineEdge(rising: rising, nanos: t * ms)) { out.append(s) } }
        if let s = d.settle(now: end * ms) { out.append(s) }
        return out
    }

    func testContactBounceIsIgnoredAndARealChangeCounts() {
        XCTAssertEqual(changes([(0, true), (3, false), (5, true), (8, false)], end: 200), [], "bounce that ends where it began")
        XCTAssertEqual(changes([(0, true), (3, false), (5, true)], end: 200), [true], "bounce, then it stays closed")
        XCTAssertEqual(changes([(0, true), (3, false), (5, true)], end: 40), [], "not yet held for 50 ms")
        XCTAssertEqual(changes([(0, true), (100, false), (104, true), (106, false)], end: 300), [true, false], "closed, then opened for good")
        XCTAssertEqual(changes([(0, false)], end: 500, initial: false), [], "an edge to the level it already has")
        XCTAssertEqual(changes([(0, true)], end: 0, debounceMs: 0), [true], "no debounce: at once")
    }
}

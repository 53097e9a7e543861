import XCTest
import VigilCore
import VigilTestSupport

final class TrafficLedgerTests: XCTestCase {
    let day: Int64 = 86_400_000
    func at(_ ms: Int64) -> WallTime { WallTime(milliseconds: fixtureEpochMs + ms, clockSynced: true) }

    func testTodayAndTheLastThirtyDaysByUTCDay() {
        var ledger = TrafficLedger()
        let midnight = TrafficLedger.day(of: at(0)) * day - fixtureEpochMs // today's 00:00 UTC, relative to the fixture
        ledger.add(100, at: at(midnight))
        ledger.add(50, at: at(midnight + day - 1))       // 23:59:59.999, still today
        ledger.add(1000, at: at(midnight - 29 * day))     // 29 days before today: inside the 30
        ledger.add(2000, at: at(midnight - 30 * day))     // 30 days before: outside
        XCTAssertEqual(ledger.today(at: at(midnight + 5)), 150)
        XCTAssertEqual(ledger.last30Days(at: at(midnight)), 1150)
        ledger.add(7, at: at(midnight + day))             // tomorrow
        XCTAssertEqual(ledger.today(at: at(midnight + day)), 7)
        XCTAssertEqual(ledger.last30Days(at: at(midnight + day)), 157, "a day later the oldest day is out")
    }

    func testBytesSentWithoutASynchronisedClockGoToTheNewestDayKnown() {
        var ledger = TrafficLedger()
        ledger.add(100, at: at(0))
        ledger.add(40, at: WallTime(milliseconds: 5_000, clockSynced: false)) // booted without RTC: 1970
        XCTAssertEqual(ledger.days.count, 1, "no day in 1970, and today is not pushed out")
        XCTAssertEqual(ledger.today(at: at(0)), 140)
    }

    func testOldDaysAreForgottenAndTheTextRoundTrips() {
        var ledger = TrafficLedger()
        ledger.add(5, at: at(0))
        ledger.add(9, at: at(40 * day))
        XCTAssertEqual(ledger.days.count, 1, "40 days on, the first day is gone")
        ledger.add(3, at: at(41 * day))
        XCTAssertEqual(TrafficLedger(parsing: ledger.text), ledger)
        XCTAssertEqual(ledger.text.split(separator: "\n").count, 2)
    }

    func testADamagedFileKeepsWhatItCanAndCountsTheRest() {
        let ledger = TrafficLedger(parsing: "20424 1200\ngarbage\n20425 x\n20425 300\n")
        XCTAssertEqual(ledger.days, [20424: 1200, 20425: 300])
        XCTAssertEqual(ledger.unreadableLines, 2)
    }

    func testDaysBefore1970AreWholeDays() {
        XCTAssertEqual(TrafficLedger.day(of: WallTime(milliseconds: -1, clockSynced: false)), -1)
        XCTAssertEqual(TrafficLedger.day(of: WallTime(milliseconds: -day, clockSynced: false)), -1)
        XCTAssertEqual(TrafficLedger.day(of: WallTime(milliseconds: 0, clockSynced: false)), 0)
    }
}

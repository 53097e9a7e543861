import Foundation
import XCTest
import VigilAgent
import VigilCore
import VigilTestSupport

/// The journal sink with report by exception: what reaches the journal (and so the
/// uplink), and what the alarm engine and `vigil values` still see.
final class ReportByExceptionSinkTests: XCTestCase {
    func reading(_ value: Double, quality: Quality = .good) -> Record {
        .reading(Reading(timestamp: WallTime(milliseconds: fixtureEpochMs, clockSynced: true), device: "gas-1", point: "gas",
                         value: quality == .good ? .double(value) : nil, raw: .none, unit: "%LEL", label: nil, quality: quality,
                         error: quality == .good ? nil : "timeout"))
    }

    func telemetry(_ journal: Journal) throws -> [StoredRecord] {
        let reader = JournalReader(journal: journal, lane: .telemetry)
        return try reader.read(after: 0, maxRecords: 1000)
    }

    /// Every point reported when it moves more than 10, or once an hour.
    var deadband: ReportPolicies {
        var policies = ReportPolicies()
        policies.fallback = ReportPolicy(deadband: .absolute(10), everySeconds: 3600)
        return policies
    }

    /// A journal sink over a fresh journal.
    func sink(reporting: ReportPolicies, alarmRules: [AlarmRule] = []) throws -> (Journal, JournalSink) {
        let journal = try Journal(directory: "\(temporaryDirectory())/journal", clock: ManualWallClock())
        let committer = JournalCommitter(journal: journal, log: Logger(threshold: .error), onDurable: {})
        return (journal, JournalSink(journal: journal, committer: committer, log: Logger(threshold: .error), alarmRules: alarmRules,
                                     reporting: reporting, onDurable: {}))
    }

    func testOnlyReportedReadingsAreJournaledAndAlarmsNameTheirs() throws {
        let (journal, sink) = try sink(reporting: deadband, alarmRules: [AlarmRule(device: "gas-1", point: "gas", level: .high, setpoint: 25)])
        sink.accept([reading(20)])                     // first: reported
        sink.accept([reading(21), reading(22)])         // within the deadband: not
        sink.accept([reading(26)])                      // raises the alarm: reported although within the deadband
        sink.accept([reading(0, quality: .bad)])        // quality: reported
        sink.accept([.event(Event(timestamp: WallTime(milliseconds: fixtureEpochMs, clockSynced: true), kind: .deviceOnline, device: "gas-1"))])
        sink.accept([reading(26)])                      // first after the device came back: reported
        sink.accept([reading(27)])                      // not
        try journal.commit()
        let kept = try telemetry(journal)
        let values = kept.compactMap { stored -> String? in
            guard case .reading(let r) = stored.record else { return nil }
            return r.value.map { "\($0)" } ?? r.quality.rawValue
        }
        XCTAssertEqual(values, ["double(20.0)", "double(26.0)", "bad", "double(26.0)"])
        let events = try JournalReader(journal: journal, lane: .events).read(after: 0, maxRecords: 100).compactMap { stored -> Event? in
            if case .event(let e) = stored.record, e.kind == .alarmRaised { return e } else { return nil }
        }
        XCTAssertEqual(events.count, 1)
        let trigger = try XCTUnwrap(events.first?.alarm?.triggerSeq)
        XCTAssertEqual(kept.first { $0.seq == trigger }.map { "\($0.record)" }, "\(reading(26))", "the alarm names the journaled reading that raised it")
        // `vigil values` sees the newest poll, reported or not.
        XCTAssertEqual(sink.latest.readings(device: "gas-1").first?.value, .double(27))
    }

    /// A reload that changes the policy keeps what was last sent (an unchanged point does not
    /// report again); one that turns report by exception off sends every poll; turned on
    /// again, each point's first reading goes, as after a start.
    func testAReloadChangesThePolicyWithoutForgettingWhatWasSent() throws {
        let (journal, sink) = try sink(reporting: deadband)
        sink.accept([reading(20)])
        sink.accept([reading(21)])
        var finer = ReportPolicies()
        finer.fallback = ReportPolicy(deadband: .absolute(0.5), everySeconds: 3600)
        sink.reconfigure(alarmRules: [], reporting: finer)
        sink.accept([reading(20.3)])                    // 0.3 from the 20 last sent: not, so that 20 is remembered
        sink.reconfigure(alarmRules: [], reporting: ReportPolicies())
        sink.accept([reading(20.3)])
        sink.accept([reading(20.3)])
        sink.reconfigure(alarmRules: [], reporting: deadband)
        sink.accept([reading(20.3)])
        try journal.commit()
        let values = try telemetry(journal).compactMap { stored -> Double? in
            guard case .reading(let r) = stored.record, case .double(let v)? = r.value else { return nil }
            return v
        }
        XCTAssertEqual(values, [20, 20.3, 20.3, 20.3])
    }
}

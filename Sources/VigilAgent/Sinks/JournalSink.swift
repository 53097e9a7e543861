import Glibc
import Synchronization
import VigilCore

/// The record pipeline's sink in `vigil run`: appends every record to the
/// journal (events fsynced at once, telemetry by group commit) and wakes the
/// forwarder when something became durable.
///
/// It also runs the alarm engine, once the readings have their seqs: an alarm
/// event names the reading that raised it, and goes to the events lane,
/// fsynced at once, within the same pipeline round as that reading.
public final class JournalSink: RecordSink {
    public let journal: Journal
    private let onDurable: @Sendable () -> Void
    private let log: Logger
    private let alarms: Mutex<AlarmEngine>

    public init(journal: Journal, log: Logger, alarmRules: [AlarmRule] = [], onDurable: @escaping @Sendable () -> Void) {
        self.journal = journal
        self.log = log
        self.onDurable = onDurable
        self.alarms = Mutex(AlarmEngine(rules: alarmRules))
    }

    /// A reload: alarms whose rule did not change keep their state.
    public func reconfigureAlarms(_ rules: [AlarmRule]) { alarms.withLock { $0.reconfigure(rules) } }

    public var activeAlarms: [AlarmRule] { alarms.withLock { $0.active } }

    public func accept(_ records: [Record]) { accept(batches: [records]) }

    public func accept(batches: [[Record]]) {
        let records = batches.flatMap { $0 }
        let before = journal.durableSeq
        do {
            guard let seqs = try journal.append(records) else { return }
            let now = monotonicNanos() / 1_000_000
            let events: [Record] = alarms.withLock { engine in
                zip(seqs, records).flatMap { seq, record -> [Record] in
                    guard case .reading(let reading) = record else { return [] }
                    return engine.process(reading, seq: seq, nowMs: now).map { .event($0) }
                }
            }
            if !events.isEmpty {
                try journal.append(events)
                for case .event(let e) in events { logAlarm(e) }
            }
        } catch {
            // A full or failing disk: these records are lost; say so loudly.
            log.error("journal: cannot write \(records.count) records: \(error)")
        }
        if journal.durableSeq != before { onDurable() }
    }

    private func logAlarm(_ e: Event) {
        guard let a = e.alarm else { return }
        let what = "\(e.device ?? "") \(a.point) \(a.level.rawValue) (setpoint \(a.setpoint)) at \(a.value.map { "\($0)" } ?? "-")"
        if e.kind == .alarmRaised { log.warning("ALARM raised: \(what)") } else { log.info("alarm \(e.kind == .alarmCleared ? "cleared" : "acknowledged"): \(what)") }
    }

    public var flushDeadline: Int64? { journal.nextCommitDeadline }

    public func flush() {
        let before = journal.durableSeq
        do { try journal.commitIfDue() } catch { log.error("journal: commit failed: \(error)") }
        if journal.durableSeq != before { onDurable() }
    }
}

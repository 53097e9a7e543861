import Glibc
import VigilCore

/// The record pipeline's sink in `vigil run`: appends every record to the
/// journal (events fsynced at once, telemetry by group commit) and wakes the
/// forwarder when something became durable.
public final class JournalSink: RecordSink {
    public let journal: Journal
    private let onDurable: @Sendable () -> Void
    private let log: Logger

    public init(journal: Journal, log: Logger, onDurable: @escaping @Sendable () -> Void) {
        self.journal = journal
        self.log = log
        self.onDurable = onDurable
    }

    public func accept(_ records: [Record]) { accept(batches: [records]) }

    public func accept(batches: [[Record]]) {
        let records = batches.flatMap { $0 }
        let before = journal.durableSeq
        do {
            try journal.append(records)
        } catch {
            // A full or failing disk: these records are lost; say so loudly.
            log.error("journal: cannot write \(records.count) records: \(error)")
        }
        if journal.durableSeq != before { onDurable() }
    }

    public var flushDeadline: Int64? { journal.nextCommitDeadline }

    public func flush() {
        let before = journal.durableSeq
        do { try journal.commitIfDue() } catch { log.error("journal: commit failed: \(error)") }
        if journal.durableSeq != before { onDurable() }
    }
}

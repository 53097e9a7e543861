import Dispatch
import Glibc
import Synchronization
import VigilCore

/// The journal's group commit, on a thread of its own: fsyncs telemetry when
/// its oldest unsynced record is `commit_ms` old, then wakes the forwarder.
///
/// The record pipeline never waits on a telemetry fsync (an alarm reading
/// queued behind one would wait too, for as long as a tired SD card takes),
/// and with two cores the next batches are encoded while the disk writes.
public final class JournalCommitter: ServicePart {
    private let journal: Journal
    private let log: Logger
    private let onDurable: @Sendable () -> Void
    private let thread: SupervisedThread
    private let wake = DispatchSemaphore(value: 0)
    /// True while the thread sleeps with nothing to commit: the next append must wake it.
    private let idle = Atomic<Bool>(false)

    public init(journal: Journal, supervisor: SupervisorService? = nil, log: Logger, onDurable: @escaping @Sendable () -> Void) {
        self.journal = journal
        self.log = log
        self.onDurable = onDurable
        // An fsync on a tired SD card can take seconds; 30 s is a hang.
        thread = SupervisedThread(supervisor, part: .journalCommit, deadlineSeconds: 30)
    }

    public var partID: PartID { .journalCommit }
    /// The last commit is an fsync: on a slow SD card it may take seconds.
    public var stopDeadlineSeconds: Double { 30 }

    public func start() {
        thread.start(name: "commit") { [self] in run() }
    }

    /// Stops the thread, then commits what is left.
    public func stop() {
        thread.stop { wake.signal() }
        commit()
    }

    /// After telemetry was appended: wakes the thread if it sleeps with nothing due.
    public func appended() {
        if idle.exchange(false, ordering: .sequentiallyConsistent) { wake.signal() }
    }

    private func run() {
        while !thread.isStopping {
            thread.checkInNow()
            var deadline = journal.nextCommitDeadline
            if deadline == nil {
                // Say "idle" before looking again, so an append in between is not missed.
                idle.store(true, ordering: .sequentiallyConsistent)
                deadline = journal.nextCommitDeadline
                if deadline != nil { idle.store(false, ordering: .sequentiallyConsistent) }
            }
            // At least once a second, to check in.
            let wait = min(1_000_000_000, max(0, (deadline ?? .max) - monotonicNanos()))
            if wait > 0 { _ = wake.wait(timeout: .now() + .nanoseconds(Int(wait))) }
            if let deadline = journal.nextCommitDeadline, monotonicNanos() >= deadline, !commit() {
                // A failing disk: try again in a second, not in a tight loop.
                _ = wake.wait(timeout: .now() + .seconds(1))
            }
        }
    }

    @discardableResult
    private func commit() -> Bool {
        let before = journal.durableSeq
        defer { if journal.durableSeq != before { onDurable() } }
        do {
            try journal.commit()
            return true
        } catch {
            log.error("journal: commit failed: \(error)")
            return false
        }
    }
}

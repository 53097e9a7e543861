import Dispatch
import Glibc
import Synchronization
import VigilCore
import VigilThreads

/// Runs the work bus workers submit (decoding a poll into readings) and hands
/// the records to the sink, on a thread of its own: a bus worker's loop then
/// does only Modbus I/O, and the next request goes out while this one's
/// readings are decoded and written. One pipeline serves every bus, so records
/// leave in the order they were submitted.
///
/// The first submit into an empty queue wakes the pipeline, which then lets
/// `flushMs` pass (a few milliseconds, far inside the 50 ms an alarm may take
/// to reach the journal) to collect what else comes before it drains: under
/// load a submit is a locked append with no wake-up call, and an idle agent
/// does not wake at all. A full queue makes workers wait: memory stays flat.
public final class RecordPipeline: RecordSink, ServicePart {
    private struct State {
        var work: [@Sendable () -> [Record]] = []
        var stopping = false
        /// The thread has drained its last work and returned.
        var ended = false
    }

    private let sink: any RecordSink
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let room: DispatchSemaphore
    private let flushMs: Int
    private let thread = Mutex<DedicatedThread?>(nil)
    private let checkIn: CheckIn

    public init(sink: any RecordSink, capacity: Int = 4096, flushMs: Int = 5, supervisor: SupervisorService? = nil) {
        self.sink = sink
        self.checkIn = CheckIn(supervisor, part: .journalWriter)
        room = DispatchSemaphore(value: capacity)
        self.flushMs = flushMs
    }

    public var partID: PartID { .journalWriter }

    public func start() {
        let t = DedicatedThread(name: "records") { [self] in run() }
        thread.withLock { $0 = t }
        t.start()
    }

    /// Finishes what was submitted, then stops the thread.
    public func stop() {
        state.withLock { $0.stopping = true }
        wake.signal()
        let t = thread.withLock { t in defer { t = nil }; return t }
        t?.join()
    }

    public func accept(_ records: [Record]) { submit { records } }

    public func submit(_ produce: @escaping @Sendable () -> [Record]) {
        room.wait()
        let count = state.withLock { s -> Int? in
            guard !s.ended else { return nil }
            s.work.append(produce)
            return s.work.count
        }
        // Ended: only a worker left behind at a stop (stuck past its deadline) submits now; the
        // agent is going away and its poll has nowhere to go. The room is given back all the same.
        guard let count else { room.signal(); return }
        if count == 1 { wake.signal() }
    }

    private func run() {
        // An fsync on a tired SD card can take seconds; 30 s is a hang.
        checkIn.begin(deadlineSeconds: 30)
        defer { checkIn.end() }
        while true {
            checkIn()
            // Sleep until work comes, or a second passes (to check in).
            if wake.wait(timeout: .now() + .seconds(1)) == .timedOut, !state.withLock({ $0.stopping }) { continue }
            if !state.withLock({ $0.stopping }) { usleep(useconds_t(flushMs * 1000)) }
            let (batch, stopping) = state.withLock { s in
                defer { s.work.removeAll(keepingCapacity: true) }
                if s.stopping && s.work.isEmpty { s.ended = true }
                return (s.work, s.stopping)
            }
            if !batch.isEmpty {
                let produced = batch.map { $0() }
                for _ in batch { room.signal() }
                sink.accept(batches: produced)
            }
            if stopping && batch.isEmpty { return }
        }
    }
}

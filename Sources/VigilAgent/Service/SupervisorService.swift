import Synchronization
import VigilCore
import VigilThreads

/// The supervisor, shared by the parts that check in and the service loop
/// that feeds the watchdogs.
public final class SupervisorService: Sendable {
    private let supervisor: Mutex<Supervisor>

    public init(graceSeconds: Double) {
        supervisor = Mutex(Supervisor(graceNanos: Int64(graceSeconds * 1e9)))
    }

    public func register(_ name: String, deadlineSeconds: Double) {
        supervisor.withLock { $0.register(name, deadlineNanos: Int64(deadlineSeconds * 1e9), now: monotonicNanos()) }
    }

    public func unregister(_ name: String) { supervisor.withLock { $0.unregister(name) } }

    public func checkIn(_ name: String) { supervisor.withLock { $0.checkIn(name, now: monotonicNanos()) } }

    public func evaluate() -> (verdict: Supervisor.Verdict, newlyStuck: [String]) {
        supervisor.withLock { $0.evaluate(now: monotonicNanos()) }
    }

    public var partNames: [String] { supervisor.withLock { $0.parts.keys.sorted() } }
}

/// A part's handle on the supervisor: registers, checks in, unregisters.
/// Without a supervisor (tests, tools) it does nothing.
public struct CheckIn: Sendable {
    let service: SupervisorService?
    let name: String

    public init(_ service: SupervisorService?, name: String) {
        self.service = service
        self.name = name
    }

    func begin(deadlineSeconds: Double) { service?.register(name, deadlineSeconds: deadlineSeconds) }
    func callAsFunction() { service?.checkIn(name) }
    func end() { service?.unregister(name) }
}

/// A part's own thread, watched by the supervisor: registered as it starts,
/// checking in from its loop, unregistered when it stops (or gives up).
public final class SupervisedThread: Sendable {
    private let thread = StoppableThread()
    private let checkIn: CheckIn
    private let deadlineSeconds: Double

    public init(_ supervisor: SupervisorService?, part: String, deadlineSeconds: Double) {
        checkIn = CheckIn(supervisor, name: part)
        self.deadlineSeconds = deadlineSeconds
    }

    public var isStopping: Bool { thread.isStopping }

    public func start(name: String, _ body: @escaping @Sendable () -> Void) {
        checkIn.begin(deadlineSeconds: deadlineSeconds)
        thread.start(name: name, body)
    }

    public func stop(wake: () -> Void = {}) {
        thread.stop(wake: wake)
        checkIn.end()
    }

    /// From the part's loop, at least once within the deadline.
    public func checkInNow() { checkIn() }

    /// The part ended on its own (its line cannot be requested): nothing left to watch.
    public func giveUp() { checkIn.end() }
}

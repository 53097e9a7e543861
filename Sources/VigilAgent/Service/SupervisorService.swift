import Synchronization
import VigilCore
import VigilThreads

/// The supervisor, shared by the parts that check in and the service loop
/// that feeds the watchdogs; it also keeps how each part is restarted.
public final class SupervisorService: Sendable {
    private let supervisor: Mutex<Supervisor>
    private let restarts = Mutex<[PartID: @Sendable () -> Void]>([:])

    public init(graceSeconds: Double) {
        supervisor = Mutex(Supervisor(graceNanos: Int64(graceSeconds * 1e9)))
    }

    /// `restart`: what brings the part back when it misses its deadline; nil
    /// when it cannot be restarted in process (then only the watchdog can).
    public func register(_ id: PartID, deadlineSeconds: Double, restart: (@Sendable () -> Void)? = nil) {
        supervisor.withLock { $0.register(id, deadlineNanos: Int64(deadlineSeconds * 1e9), now: monotonicNanos()) }
        restarts.withLock { $0[id] = restart }
    }

    public func unregister(_ id: PartID) {
        supervisor.withLock { $0.unregister(id) }
        restarts.withLock { $0[id] = nil }
    }

    public func checkIn(_ id: PartID) { supervisor.withLock { $0.checkIn(id, now: monotonicNanos()) } }

    public func evaluate() -> (verdict: Supervisor.Verdict, newlyStuck: [PartID]) {
        supervisor.withLock { $0.evaluate(now: monotonicNanos()) }
    }

    /// Asks a stuck part to restart; false when it has no way to.
    public func restart(_ id: PartID) -> Bool {
        guard let restart = restarts.withLock({ $0[id] }) else { return false }
        restart()
        return true
    }

    public var parts: [PartID] { supervisor.withLock { $0.parts.keys.sorted() } }
    public var partNames: [String] { parts.map(\.description) }
}

/// A part's handle on the supervisor: registers, checks in, unregisters.
/// Without a supervisor (tests, tools) it does nothing.
public struct CheckIn: Sendable {
    let service: SupervisorService?
    let id: PartID

    public init(_ service: SupervisorService?, part id: PartID) {
        self.service = service
        self.id = id
    }

    func begin(deadlineSeconds: Double, restart: (@Sendable () -> Void)? = nil) {
        service?.register(id, deadlineSeconds: deadlineSeconds, restart: restart)
    }
    func callAsFunction() { service?.checkIn(id) }
    func end() { service?.unregister(id) }
}

/// A part's own thread, watched by the supervisor: registered as it starts,
/// checking in from its loop, unregistered when it stops (or gives up).
public final class SupervisedThread: Sendable {
    private let thread = StoppableThread()
    private let checkIn: CheckIn
    private let deadlineSeconds: Double

    public init(_ supervisor: SupervisorService?, part: PartID, deadlineSeconds: Double) {
        checkIn = CheckIn(supervisor, part: part)
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

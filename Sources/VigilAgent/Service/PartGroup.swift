import VigilCore
import VigilThreads

/// A long-running part of the agent, started and stopped by its group. Each
/// part keeps its own thread (blocking C calls stay off the concurrency pool);
/// the group only orders them.
public protocol ServicePart: Sendable {
    var partID: PartID { get }
    func start()
    /// Returns once the part's thread has ended.
    func stop()
    /// How long `stop` may take before the group goes on without it.
    var stopDeadlineSeconds: Double { get }
}

extension ServicePart {
    public var stopDeadlineSeconds: Double { 10 }
}

/// A step of the daemon's start and stop that is not a thread of its own (the
/// control socket's setup, the outputs' release to safe states), under its id.
public struct StepPart: ServicePart {
    public let partID: PartID
    private let onStart: @Sendable () -> Void
    private let onStop: @Sendable () -> Void
    public let stopDeadlineSeconds: Double

    public init(_ id: PartID, stopDeadlineSeconds: Double = 10, start: @escaping @Sendable () -> Void = {},
                stop: @escaping @Sendable () -> Void = {}) {
        partID = id
        onStart = start
        onStop = stop
        self.stopDeadlineSeconds = stopDeadlineSeconds
    }

    public func start() { onStart() }
    public func stop() { onStop() }
}

/// Parts started in order and stopped in reverse order (what is started first
/// — the journal's committer, the forwarder — is stopped last, so everything
/// the others produced is committed and sent). A part that does not stop
/// within its deadline (a thread stuck in the kernel) is logged and left
/// behind, so the parts after it still stop.
public struct PartGroup: Sendable {
    public let parts: [any ServicePart]

    public init(_ parts: [any ServicePart]) { self.parts = parts }

    public func start() { parts.forEach { $0.start() } }

    /// Returns the parts that did not stop within their deadline.
    @discardableResult
    public func stop(log: Logger?) -> [PartID] {
        var leftBehind: [PartID] = []
        for part in parts.reversed() {
            let stopping = DedicatedThread(name: "stop \(part.partID)") { part.stop() }
            stopping.start()
            if !stopping.join(waitingAtMost: part.stopDeadlineSeconds) {
                log?.error("\(part.partID) did not stop within \(part.stopDeadlineSeconds) s; going on without it")
                leftBehind.append(part.partID)
            }
        }
        return leftBehind
    }
}

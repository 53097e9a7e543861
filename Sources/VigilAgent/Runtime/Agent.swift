import Glibc
import Synchronization
import VigilCore

/// The running agent: one worker per bus, all feeding one record pipeline
/// that decodes and writes on its own thread.
public final class Agent: ServicePart {
    private let state: Mutex<[BusWorker]>
    private let pipeline: RecordPipeline
    private let supervisor: SupervisorService?
    private let log: Logger?

    public init(config: VigilConfig, sink: any RecordSink, supervisor: SupervisorService? = nil, log: Logger? = nil) {
        self.supervisor = supervisor
        self.log = log
        pipeline = RecordPipeline(sink: sink, supervisor: supervisor)
        state = Mutex([])
        let workers = makeWorkers(config, buses: config.buses.map(\.id))
        state.withLock { $0 = workers }
    }

    /// Where other record producers (the GPIO inputs) hand their readings: the
    /// same pipeline as the buses, so the journal has one writer.
    public var recordSink: any RecordSink { pipeline }
    public var workers: [BusWorker] { state.withLock { $0 } }

    /// Every polled device's state, by id (for the uplink's status).
    public var deviceStates: [(id: String, state: String)] {
        workers.flatMap { $0.counters.deviceStates.map { (id: $0.key, state: $0.value.rawValue) } }.sorted { $0.id < $1.id }
    }

    private func makeWorkers(_ config: VigilConfig, buses: [String]) -> [BusWorker] {
        config.buses.filter { buses.contains($0.id) }.compactMap { bus in
            let devices = config.devices(on: bus.id)
            return devices.isEmpty ? nil : BusWorker(bus: bus, devices: devices, sink: pipeline, supervisor: supervisor, log: log)
        }
    }

    public var partID: PartID { .polling }
    /// Each bus within its own deadline, then the writer.
    public var stopDeadlineSeconds: Double { workers.map(\.stopDeadlineSeconds).reduce(10, +) }

    /// The writer first, so the buses' first polls have somewhere to go; stopped last.
    private var parts: PartGroup { PartGroup([pipeline] + workers) }

    public func start() { parts.start() }

    /// Waits until every bus has tried to open its port (or `seconds` pass):
    /// systemd hears READY=1 only then.
    public func waitUntilBusesTried(seconds: Double) {
        let deadline = monotonicNanos() + Int64(seconds * 1e9)
        while monotonicNanos() < deadline, !workers.allSatisfy({ $0.counters.triedToOpen }) {
            usleep(10_000)
        }
    }

    /// Stops every worker after its current request, then writes what they produced.
    public func stop() { parts.stop(log: log) }

    /// Applies a new (valid) config: only the buses whose settings or devices
    /// changed are stopped and started again; the others poll on undisturbed.
    /// Returns the ids of the buses restarted.
    @discardableResult
    public func apply(_ newConfig: VigilConfig) -> [String] {
        let workers = state.withLock { $0 }
        func unchanged(_ worker: BusWorker) -> Bool {
            newConfig.buses.first { $0.id == worker.bus.id } == worker.bus && newConfig.devices(on: worker.bus.id) == worker.deviceSpecs
        }
        var keep = workers.filter(unchanged)
        let stop = workers.filter { !unchanged($0) }
        // A worker that does not stop still owns its line (rule 1): no second one is started
        // on it; it stays, stuck, and the supervisor has the agent restarted.
        let stuck = Set(PartGroup(stop).stop(log: log))
        for worker in stop where stuck.contains(worker.partID) {
            log?.error("bus \(worker.bus.id): its worker did not stop; its new settings take effect at the next restart")
            keep.append(worker)
        }
        let keptIDs = Set(keep.map(\.bus.id))
        let started = makeWorkers(newConfig, buses: newConfig.buses.map(\.id).filter { !keptIDs.contains($0) })
        started.forEach { $0.start() }
        state.withLock { $0 = keep + started }
        return Set(stop.filter { !stuck.contains($0.partID) }.map(\.bus.id)).union(started.map(\.bus.id)).sorted()
    }
}

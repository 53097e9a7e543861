import Glibc
import Synchronization
import VigilCore

/// The running agent: one worker per bus, all feeding one record pipeline
/// that decodes and writes on its own thread.
public final class Agent: Sendable {
    private let state: Mutex<(config: VigilConfig, workers: [BusWorker])>
    private let pipeline: RecordPipeline
    private let supervisor: SupervisorService?
    private let log: Logger?

    public init(config: VigilConfig, sink: any RecordSink, supervisor: SupervisorService? = nil, log: Logger? = nil) {
        self.supervisor = supervisor
        self.log = log
        pipeline = RecordPipeline(sink: sink, supervisor: supervisor)
        state = Mutex((config, []))
        let workers = makeWorkers(config, buses: config.buses.map(\.id))
        state.withLock { $0.workers = workers }
    }

    public var config: VigilConfig { state.withLock { $0.config } }
    /// Where other record producers (the GPIO inputs) hand their readings: the
    /// same pipeline as the buses, so the journal has one writer.
    public var recordSink: any RecordSink { pipeline }
    public var workers: [BusWorker] { state.withLock { $0.workers } }

    private func makeWorkers(_ config: VigilConfig, buses: [String]) -> [BusWorker] {
        config.buses.filter { buses.contains($0.id) }.compactMap { bus in
            let devices = config.devices(on: bus.id)
            return devices.isEmpty ? nil : BusWorker(bus: bus, devices: devices, sink: pipeline, supervisor: supervisor, log: log)
        }
    }

    public func start() {
        pipeline.start()
        workers.forEach { $0.start() }
    }

    /// Waits until every bus has tried to open its port (or `seconds` pass):
    /// systemd hears READY=1 only then.
    public func waitUntilBusesTried(seconds: Double) {
        let deadline = monotonicNanos() + Int64(seconds * 1e9)
        while monotonicNanos() < deadline, !workers.allSatisfy({ $0.counters.triedToOpen }) {
            usleep(10_000)
        }
    }

    /// Stops every worker after its current request, then writes what they produced.
    public func stop() {
        workers.forEach { $0.stop() }
        pipeline.stop()
    }

    /// Applies a new (valid) config: only the buses whose settings or devices
    /// changed are stopped and started again; the others poll on undisturbed.
    /// Returns the ids of the buses restarted.
    @discardableResult
    public func apply(_ newConfig: VigilConfig) -> [String] {
        let workers = state.withLock { $0.workers }
        func unchanged(_ worker: BusWorker) -> Bool {
            newConfig.buses.first { $0.id == worker.bus.id } == worker.bus && newConfig.devices(on: worker.bus.id) == worker.deviceSpecs
        }
        let keep = workers.filter(unchanged)
        let stop = workers.filter { !unchanged($0) }
        stop.forEach { $0.stop() }
        let keptIDs = Set(keep.map(\.bus.id))
        let started = makeWorkers(newConfig, buses: newConfig.buses.map(\.id).filter { !keptIDs.contains($0) })
        started.forEach { $0.start() }
        state.withLock { $0 = (newConfig, keep + started) }
        return Set(stop.map(\.bus.id)).union(started.map(\.bus.id)).sorted()
    }
}

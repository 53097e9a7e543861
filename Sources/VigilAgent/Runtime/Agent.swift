import VigilCore

/// The running agent: one worker per bus, all feeding one record pipeline
/// that decodes and writes on its own thread.
public final class Agent: Sendable {
    public let config: VigilConfig
    public let workers: [BusWorker]
    private let pipeline: RecordPipeline

    public init(config: VigilConfig, sink: any RecordSink) {
        self.config = config
        let pipeline = RecordPipeline(sink: sink)
        self.pipeline = pipeline
        workers = config.buses.compactMap { bus in
            let devices = config.devices(on: bus.id)
            return devices.isEmpty ? nil : BusWorker(bus: bus, devices: devices, sink: pipeline)
        }
    }

    public func start() {
        pipeline.start()
        workers.forEach { $0.start() }
    }

    /// Stops every worker after its current request, then writes what they produced.
    public func stop() {
        workers.forEach { $0.stop() }
        pipeline.stop()
    }
}

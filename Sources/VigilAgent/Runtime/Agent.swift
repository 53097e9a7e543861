import VigilCore

/// The running agent: one worker per bus, all feeding one sink.
public final class Agent: Sendable {
    public let config: VigilConfig
    public let workers: [BusWorker]

    public init(config: VigilConfig, sink: any RecordSink) {
        self.config = config
        workers = config.buses.compactMap { bus in
            let devices = config.devices(on: bus.id)
            return devices.isEmpty ? nil : BusWorker(bus: bus, devices: devices, sink: sink)
        }
    }

    public func start() { workers.forEach { $0.start() } }

    /// Stops every worker after its current request.
    public func stop() { workers.forEach { $0.stop() } }
}

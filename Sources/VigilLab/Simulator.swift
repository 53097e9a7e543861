import Glibc
import Synchronization
import VigilCore
import VigilThreads
import VigilModbus

/// `vigil simulate`: a Modbus server (libmodbus's server API) serving
/// simulated sensors from their profiles, on TCP or on a serial line.
public final class Simulator: Sendable {
    public let transport: BusTransport
    public let devices: [SimulatedDevice]
    /// Values stay where `startAt` puts them (for comparing two readers).
    public let frozen: Bool
    /// Where on the sensors' curves to start, in seconds (the gas spike is at 12–28 s).
    public let startAt: Double
    private let thread = StoppableThread()
    private let requestCount = Atomic<Int>(0)

    public init(transport: BusTransport, devices: [SimulatedDevice], frozen: Bool = false, startAt: Double = 0) {
        self.transport = transport
        self.devices = devices
        self.frozen = frozen
        self.startAt = startAt
    }

    public var requestsServed: Int { requestCount.load(ordering: .relaxed) }

    /// Serves on the calling thread until `stop()`.
    public func run() throws(ModbusError) {
        serve(try open())
    }

    /// Opens the port now, so a failure reaches the caller, then serves on a thread.
    public func start() throws(ModbusError) {
        let server = try open()
        thread.start(name: "simulator") { [self] in serve(server) }
    }

    private func open() throws(ModbusError) -> ModbusServer {
        try ModbusServer(transport: transport)
    }

    private func serve(_ server: ModbusServer) {
        let models = Dictionary(devices.map { ($0.unit, SensorModel($0)) }, uniquingKeysWith: { first, _ in first })
        // Frozen values are the curve's at --start-at (0 by default).
        for model in models.values { model.update(elapsedSeconds: startAt) }
        let start = monotonicNanos()
        server.run(shouldStop: { thread.isStopping }, tick: {
            guard !frozen else { return }
            let t = startAt + Double(monotonicNanos() - start) / 1e9
            for model in models.values { model.update(elapsedSeconds: t) }
        }, reply: { unit in
            requestCount.add(1, ordering: .relaxed)
            guard let model = models[unit] else { return .silence }
            switch model.device.fault {
            case .none: return .answer(model.map)
            case .silent: return .silence
            case .exception(let code): return .exception(code)
            case .slow(let ms): return .answerAfter(milliseconds: ms, model.map)
            }
        })
    }

    public func stop() { thread.stop() }
}

import Synchronization
import VigilCore
import VigilGPIO

/// The gateway's own lines: a watcher per input, the output controller, the
/// status LED. Built from `config.gpio`; nothing here when the config has none.
public final class GPIOService: Sendable {
    public let outputs: OutputController
    private let backend: any GPIOBackend
    private let supervisor: SupervisorService?
    private let log: Logger?
    private let inputs: Mutex<[InputWatcher]>
    private let statusLED: GPIOLine?
    private let led = Mutex<StatusLEDDriver?>(nil)

    public init(spec: GPIOSpec, backend: any GPIOBackend, supervisor: SupervisorService?, log: Logger?) {
        self.backend = backend
        self.supervisor = supervisor
        self.log = log
        outputs = OutputController(spec: spec, backend: backend, log: log)
        inputs = Mutex([])
        statusLED = spec.statusLED
    }

    /// Starts watching the inputs (their readings go to `sink`) and blinking
    /// the LED in the pattern `ledPattern` gives.
    public func start(inputs specs: [InputSpec], sink: any RecordSink, ledPattern: @escaping @Sendable () -> StatusLEDPattern) {
        let watchers = specs.map { InputWatcher(spec: $0, backend: backend, sink: sink, supervisor: supervisor, log: log) }
        inputs.withLock { $0 = watchers }
        watchers.forEach { $0.start() }
        if let statusLED {
            let driver = StatusLEDDriver(led: statusLED, backend: backend, supervisor: supervisor, log: log, pattern: ledPattern)
            led.withLock { $0 = driver }
            driver.start()
        }
    }

    /// A reload: inputs whose settings changed are watched again; the others go on.
    public func apply(inputs specs: [InputSpec], sink: any RecordSink) {
        let current = inputs.withLock { $0 }
        let keep = current.filter { specs.contains($0.spec) }
        current.filter { !specs.contains($0.spec) }.forEach { $0.stop() }
        let started = specs.filter { s in !keep.contains { $0.spec == s } }
            .map { InputWatcher(spec: $0, backend: backend, sink: sink, supervisor: supervisor, log: log) }
        started.forEach { $0.start() }
        inputs.withLock { $0 = keep + started }
    }

    /// Stops the watchers and the LED; the outputs are released by the caller
    /// (after the last alarms were written) with `outputs.releaseToSafeStates`.
    public func stop() {
        inputs.withLock { $0 }.forEach { $0.stop() }
        led.withLock { $0 }?.stop()
    }
}

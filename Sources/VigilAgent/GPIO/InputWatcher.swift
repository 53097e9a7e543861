import Glibc
import VigilCore
import VigilGPIO

/// Watches one dry contact on a thread of its own (waiting for edges blocks
/// in the kernel): reads its level at start, debounces its edges on the
/// kernel's timestamps, and emits a bool reading of device `gpio` at start,
/// at every settled change and every `interval_ms`. A line that cannot be
/// requested gives bad readings and is tried again every few seconds.
public final class InputWatcher: Sendable {
    public let spec: InputSpec
    private let backend: any GPIOBackend
    private let sink: any RecordSink
    private let thread: SupervisedThread
    private let log: Logger?
    private let repeats = RepeatLimiter(intervalSeconds: 60)
    static let retryNanos: Int64 = 5_000_000_000
    /// The longest one wait for edges lasts: the thread checks in and looks at its stop flag this often.
    static let waitMs = 200

    public init(spec: InputSpec, backend: any GPIOBackend, sink: any RecordSink, supervisor: SupervisorService? = nil, log: Logger? = nil) {
        self.spec = spec
        self.backend = backend
        self.sink = sink
        self.thread = SupervisedThread(supervisor, part: .gpioInput(spec.id), deadlineSeconds: 5)
        self.log = log
    }

    public func start() {
        thread.start(name: "gpio \(spec.id)") { [self] in run() }
    }

    public func stop() {
        thread.stop()
    }

    private func run() {
        var line: (input: any GPIOInput, debouncer: Debouncer)?
        var nextReading: Int64 = 0, nextAttempt: Int64 = 0
        while !thread.isStopping {
            thread.checkInNow()
            let now = monotonicNanos()
            guard let (input, debouncer) = line else {
                if now >= nextAttempt {
                    line = open()
                    nextAttempt = now + Self.retryNanos
                    nextReading = now + Int64(spec.intervalMs) * 1_000_000
                }
                if line == nil { usleep(UInt32(Self.waitMs) * 1000) }
                continue
            }
            var d = debouncer
            let untilSettled = d.settlesAt.map { Int(max(0, ($0 - now + 999_999) / 1_000_000)) } ?? Self.waitMs
            do {
                for edge in try input.waitEdges(timeoutMs: min(Self.waitMs, untilSettled)) {
                    if let level = d.feed(edge) { emit(level) }
                }
            } catch {
                fail("\(error)")
                line = nil
                nextAttempt = monotonicNanos() + Self.retryNanos
                continue
            }
            let after = monotonicNanos()
            if let level = d.settle(now: after) {
                emit(level)
                nextReading = after + Int64(spec.intervalMs) * 1_000_000
            } else if after >= nextReading {
                emit(d.stable)
                nextReading = after + Int64(spec.intervalMs) * 1_000_000
            }
            line = (input, d)
        }
    }

    /// Requests the line and reads where it stands: the state at start counts,
    /// a flood sensor already wet when the agent starts raises its alarm.
    private func open() -> (any GPIOInput, Debouncer)? {
        do {
            let input = try backend.input(spec.line, consumer: "vigil")
            let level = try input.read()
            log?.info("gpio input \(spec.id) on \(spec.line): \(level ? "active" : "inactive") at start")
            emit(level)
            return (input, Debouncer(initial: level, debounceMs: spec.debounceMs))
        } catch {
            fail("\(error)")
            return nil
        }
    }

    private func fail(_ message: String) {
        if let line = repeats.admit(key: spec.id, message: "gpio input \(spec.id): \(message)") { log?.error(line) }
        sink.accept([.reading(Reading(timestamp: SystemClock.shared.now(), device: GPIOSpec.device, point: spec.id, value: nil, raw: .none,
                                      unit: nil, label: nil, quality: .bad, error: message))])
    }

    private func emit(_ active: Bool) {
        sink.accept([.reading(Reading(timestamp: SystemClock.shared.now(), device: GPIOSpec.device, point: spec.id, value: .bool(active),
                                      raw: .bit(active), unit: nil, label: active ? "active" : "inactive", quality: .good, error: nil))])
    }
}

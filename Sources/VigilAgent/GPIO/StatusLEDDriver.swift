import Glibc
import VigilCore
import VigilGPIO

/// Blinks the board's status LED in the pattern of the gateway's state
/// (`StatusLEDPattern`), on a thread of its own.
public final class StatusLEDDriver: Sendable {
    private let led: GPIOLine
    private let backend: any GPIOBackend
    private let pattern: @Sendable () -> StatusLEDPattern
    private let thread: SupervisedThread
    private let log: Logger?

    public init(led: GPIOLine, backend: any GPIOBackend, supervisor: SupervisorService? = nil, log: Logger? = nil,
                pattern: @escaping @Sendable () -> StatusLEDPattern) {
        self.led = led
        self.backend = backend
        self.pattern = pattern
        self.thread = SupervisedThread(supervisor, part: .statusLED, deadlineSeconds: 5)
        self.log = log
    }

    public func start() {
        thread.start(name: "status led") { [self] in run() }
    }

    public func stop() {
        thread.stop()
    }

    private func run() {
        let output: any GPIOOutput
        do { output = try backend.output(led, consumer: "vigil", initial: false) } catch {
            log?.error("status led: \(error); no LED patterns")
            thread.giveUp()
            return
        }
        var lit = false
        while !thread.isStopping {
            thread.checkInNow()
            let want = pattern().lit(atMs: monotonicNanos() / 1_000_000)
            if want != lit {
                do { try output.set(want); lit = want } catch { log?.error("status led: \(error)") }
            }
            usleep(25_000)
        }
        try? output.set(false)
    }
}

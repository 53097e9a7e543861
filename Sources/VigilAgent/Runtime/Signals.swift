import Glibc

/// Termination signals, taken synchronously: they are blocked in every thread
/// (call `blockTermination()` before starting any) and the main thread waits
/// for them with `wait(upToSeconds:)`.
public enum Signals {
    static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    public static func blockTermination() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in handled { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        // A closed stdout pipe (`vigil run | head`) must not kill the agent.
        signal(SIGPIPE, SIG_IGN)
    }

    /// The signal received, or nil when `seconds` passed first (nil waits forever).
    public static func wait(upToSeconds seconds: Double?) -> Int32? {
        var set = sigset_t()
        sigemptyset(&set)
        for s in handled { sigaddset(&set, s) }
        let deadline = seconds.map { monotonicSeconds() + $0 }
        while true {
            var remaining = 3600.0
            if let deadline {
                remaining = deadline - monotonicSeconds()
                if remaining <= 0 { return nil }
            }
            var ts = timespec(tv_sec: Int(remaining), tv_nsec: Int((remaining - remaining.rounded(.down)) * 1e9))
            let s = sigtimedwait(&set, nil, &ts)
            if s > 0 { return s }
        }
    }

    private static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

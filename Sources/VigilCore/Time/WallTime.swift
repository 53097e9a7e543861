#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock UTC in milliseconds, with whether the system clock was
/// synchronised when it was read (gateways without an RTC boot in 1970).
public struct WallTime: Sendable, Equatable {
    public var milliseconds: Int64
    public var clockSynced: Bool

    public init(milliseconds: Int64, clockSynced: Bool) {
        self.milliseconds = milliseconds
        self.clockSynced = clockSynced
    }

    /// Readings from before this moment (2024-01-01) cannot be from a set clock.
    static let plausibleEpochMs: Int64 = 1_704_067_200_000

    /// The current wall-clock time; `kernelSynchronised` comes from the agent,
    /// which asks the kernel (adjtimex) through its Linux shim.
    public static func now(kernelSynchronised: Bool) -> WallTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let ms = Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
        return WallTime(milliseconds: ms, clockSynced: ms >= plausibleEpochMs && kernelSynchronised)
    }

    /// "2026-11-22T21:05:15.123Z"
    public var iso8601: String {
        var seconds = time_t(milliseconds / 1000)
        var millis = Int(milliseconds % 1000)
        if millis < 0 { millis += 1000; seconds -= 1 }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}

/// Nanoseconds on the monotonic clock: all scheduling uses this.
public func monotonicNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

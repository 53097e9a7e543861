#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock UTC in milliseconds, with whether the system clock was
/// synchronised when it was read (gateways without an RTC boot in 1970).
public struct WallTime: Sendable, Equatable {
    public let milliseconds: Int64
    public let clockSynced: Bool
    /// "2026-11-22T21:05:15.123Z", formatted once: every reading of a poll shares it.
    public let iso8601: String

    public init(milliseconds: Int64, clockSynced: Bool) {
        self.milliseconds = milliseconds
        self.clockSynced = clockSynced
        self.iso8601 = Self.format(milliseconds)
    }

    /// Readings from before this moment (2024-01-01) cannot be from a set clock.
    static let plausibleEpochMs: Int64 = 1_704_067_200_000

    /// The current wall-clock time; `kernelSynchronised` comes from the agent,
    /// which asks the kernel (adjtimex) through its Linux shim.
    public static func now(kernelSynchronised: Bool) -> WallTime {
        let ms = nowMilliseconds()
        return WallTime(milliseconds: ms, clockSynced: ms >= plausibleEpochMs && kernelSynchronised)
    }

    /// Milliseconds since 1970 on the (possibly unsynchronised) system clock.
    public static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    static func format(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var millis = Int(milliseconds % 1000)
        if millis < 0 { millis += 1000; seconds -= 1 }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(unsafeUninitializedCapacity: 24) { b in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var v = value
                for i in stride(from: width - 1, through: 0, by: -1) {
                    b[offset + i] = UInt8(48 + v % 10)
                    v /= 10
                }
            }
            put(Int(parts.tm_year) + 1900, 4, at: 0); b[4] = 0x2D
            put(Int(parts.tm_mon) + 1, 2, at: 5); b[7] = 0x2D
            put(Int(parts.tm_mday), 2, at: 8); b[10] = 0x54
            put(Int(parts.tm_hour), 2, at: 11); b[13] = 0x3A
            put(Int(parts.tm_min), 2, at: 14); b[16] = 0x3A
            put(Int(parts.tm_sec), 2, at: 17); b[19] = 0x2E
            put(millis, 3, at: 20); b[23] = 0x5A
            return 24
        }
    }
}

/// Nanoseconds on the monotonic clock: all scheduling uses this.
public func monotonicNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock UTC in milliseconds, with whether the system clock was
/// synchronised when it was read (gateways without an RTC boot in 1970).
public struct WallTime: Sendable, Equatable {
    public let milliseconds: Int64
    public let clockSynced: Bool

    public init(milliseconds: Int64, clockSynced: Bool) {
        self.milliseconds = milliseconds
        self.clockSynced = clockSynced
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
    /// Decisions do not call this: they take a `WallClock`.
    private static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// "2026-11-22T21:05:15.123Z".
    public var iso8601: String {
        String(unsafeUninitializedCapacity: 24) { writeISO8601(into: UnsafeMutableRawBufferPointer($0)) }
    }

    /// Appends the 24 bytes of `iso8601`, with no String made on the way (a
    /// JSON line or batch writes one a reading).
    public func appendISO8601(to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: 24, alignment: 1) { b in
            out.append(contentsOf: UnsafeRawBufferPointer(start: b.baseAddress, count: writeISO8601(into: b)))
        }
    }

    /// The time is kept as milliseconds alone: a reading is copied many times
    /// on its way (pipeline, alarms, journal), and a formatted String in it
    /// was a reference count to bump at every copy. Formatting is arithmetic
    /// (days to civil date, as in Howard Hinnant's `civil_from_days`), about
    /// as fast as copying it was.
    private func writeISO8601(into b: UnsafeMutableRawBufferPointer) -> Int {
        let (days, msOfDay) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let (day, ms) = msOfDay < 0 ? (days - 1, msOfDay + 86_400_000) : (days, msOfDay)
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func put(_ value: Int64, _ width: Int, at offset: Int) {
            var v = value
            for i in stride(from: width - 1, through: 0, by: -1) {
                b[offset + i] = UInt8(48 + v % 10)
                v /= 10
            }
        }
        put(year, 4, at: 0); b[4] = 0x2D
        put(month, 2, at: 5); b[7] = 0x2D
        put(dayOfMonth, 2, at: 8); b[10] = 0x54
        put(ms / 3_600_000, 2, at: 11); b[13] = 0x3A
        put(ms / 60_000 % 60, 2, at: 14); b[16] = 0x3A
        put(ms / 1000 % 60, 2, at: 17); b[19] = 0x2E
        put(ms % 1000, 3, at: 20); b[23] = 0x5A
        return 24
    }
}

/// Nanoseconds on the monotonic clock: all scheduling uses this.
public func monotonicNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

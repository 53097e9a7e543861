import CLinuxShims
import Synchronization
import VigilCore

/// The wall clock, with the kernel's "synchronised" flag (adjtimex) read at
/// most once a second: it is asked on every poll.
public final class SystemClock: WallClock {
    public static let shared = SystemClock()
    private let lastCheck = Mutex<(atMonotonic: Int64, synced: Bool)>((.min, false))

    public func now() -> WallTime {
        let mono = monotonicNanos()
        let synced = lastCheck.withLock { check in
            if check.atMonotonic == .min || mono - check.atMonotonic > 1_000_000_000 {
                check = (mono, CLinuxShims_clock_synchronised() == 1)
            }
            return check.synced
        }
        return WallTime.now(kernelSynchronised: synced)
    }
}

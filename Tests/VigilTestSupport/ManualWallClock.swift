import Synchronization
import VigilCore

/// A wall clock the test sets: decisions against "now" (the journal's max
/// age) see the time the test says, whatever the date the suite runs on.
public final class ManualWallClock: WallClock {
    private let milliseconds: Mutex<Int64>

    public init(milliseconds: Int64 = fixtureEpochMs) { self.milliseconds = Mutex(milliseconds) }

    public func now() -> WallTime { WallTime(milliseconds: milliseconds.withLock { $0 }, clockSynced: true) }

    public func advance(seconds: Int64) { milliseconds.withLock { $0 += seconds * 1000 } }
}

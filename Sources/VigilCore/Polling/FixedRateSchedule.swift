/// A fixed-rate schedule on the monotonic clock: due times are start + k × interval,
/// so polls do not drift. A poll that overruns its slot skips the missed slots
/// (counted) instead of firing them back to back.
public struct FixedRateSchedule: Sendable {
    public let intervalNanos: Int64
    public private(set) var nextDue: Int64
    public private(set) var overruns: Int = 0

    public init(intervalNanos: Int64, firstDue: Int64) {
        self.intervalNanos = max(1, intervalNanos)
        self.nextDue = firstDue
    }

    /// Call when the poll due at `nextDue` has finished at `now`.
    public mutating func advance(now: Int64) {
        nextDue += intervalNanos
        if now >= nextDue {
            let missed = (now - nextDue) / intervalNanos + 1
            overruns += Int(missed)
            nextDue += missed * intervalNanos
        }
    }

    /// Moves the next poll to the first slot at or after `time` (a demoted
    /// device): slots passed over on purpose are not overruns.
    public mutating func postpone(until time: Int64) {
        guard time > nextDue else { return }
        nextDue += (time - nextDue + intervalNanos - 1) / intervalNanos * intervalNanos
    }
}

/// Exponential backoff for reconnects: doubles from `initial` up to `cap`.
public struct Backoff: Sendable {
    public let initialNanos: Int64
    public let capNanos: Int64
    public private(set) var currentNanos: Int64

    public init(initialMs: Int64 = 250, capMs: Int64 = 30_000) {
        initialNanos = initialMs * 1_000_000
        capNanos = capMs * 1_000_000
        currentNanos = initialNanos
    }

    /// The delay to wait now; the next one will be twice as long.
    public mutating func next() -> Int64 {
        let delay = currentNanos
        currentNanos = min(capNanos, currentNanos * 2)
        return delay
    }

    public mutating func reset() { currentNanos = initialNanos }
}

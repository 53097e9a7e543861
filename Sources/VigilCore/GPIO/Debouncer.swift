/// One edge from a GPIO line, with the kernel's timestamp.
public struct LineEdge: Sendable, Equatable {
    public var rising: Bool
    public var nanos: Int64
    public init(rising: Bool, nanos: Int64) { self.rising = rising; self.nanos = nanos }
}

/// Debounces a dry contact in software (libgpiod v1 has no debounce): a new
/// level counts once it has held for `debounceNanos`, judged on the kernel's
/// edge timestamps, so contact bounce never reaches the alarm engine.
public struct Debouncer: Sendable {
    public let debounceNanos: Int64
    /// The level accepted so far.
    public private(set) var stable: Bool
    private var candidate: (level: Bool, since: Int64)?

    public init(initial: Bool, debounceMs: Int) {
        stable = initial
        debounceNanos = Int64(debounceMs) * 1_000_000
    }

    /// Feeds one edge; returns the new stable level when this edge settles a change
    /// that began before it (a bounce that returns to the stable level cancels it).
    public mutating func feed(_ edge: LineEdge) -> Bool? {
        let settled = settle(now: edge.nanos)
        if edge.rising == stable {
            candidate = nil
        } else if candidate?.level != edge.rising {
            candidate = (edge.rising, edge.nanos)
        }
        return settled
    }

    /// When a pending change settles if no edge comes first (monotonic nanoseconds); nil when none is pending.
    public var settlesAt: Int64? { candidate.map { $0.since + debounceNanos } }

    /// Called when no edge came for a while: the candidate settles once it has held long enough.
    public mutating func settle(now: Int64) -> Bool? {
        guard let c = candidate, now - c.since >= debounceNanos else { return nil }
        stable = c.level
        candidate = nil
        return stable
    }
}

/// Decides whether the agent is really working: every long-running part
/// checks in within a deadline derived from its own interval and timeout. A
/// part that misses it is reported (and asked to restart); if it is still
/// stuck after `grace`, the agent is failed and the watchdogs are no longer fed,
/// so systemd or the hardware restarts it.
public struct Supervisor: Sendable {
    public struct Part: Sendable, Equatable {
        public var id: PartID
        public var deadlineNanos: Int64
        public var lastCheckIn: Int64
        /// When it was first seen past its deadline; nil while healthy.
        public var stuckSince: Int64?
    }

    public enum Verdict: Sendable, Equatable {
        case healthy
        /// Parts past their deadline, still within grace: keep feeding the watchdogs.
        case degraded(stuck: [PartID])
        /// Parts stuck past the grace period: stop feeding the watchdogs.
        case failed(stuck: [PartID])

        public var feedWatchdog: Bool { if case .failed = self { false } else { true } }
    }

    public let graceNanos: Int64
    public private(set) var parts: [PartID: Part] = [:]

    public init(graceNanos: Int64) { self.graceNanos = graceNanos }

    public mutating func register(_ id: PartID, deadlineNanos: Int64, now: Int64) {
        parts[id] = Part(id: id, deadlineNanos: deadlineNanos, lastCheckIn: now, stuckSince: nil)
    }

    public mutating func unregister(_ id: PartID) { parts[id] = nil }

    public mutating func checkIn(_ id: PartID, now: Int64) {
        guard parts[id] != nil else { return }
        parts[id]!.lastCheckIn = now
        parts[id]!.stuckSince = nil
    }

    /// The verdict now, and the parts that have just become stuck (to log and restart once).
    public mutating func evaluate(now: Int64) -> (verdict: Verdict, newlyStuck: [PartID]) {
        var newlyStuck: [PartID] = []
        var stuck: [PartID] = []
        var failed = false
        for id in parts.keys.sorted() {
            var part = parts[id]!
            guard now - part.lastCheckIn > part.deadlineNanos else { continue }
            if part.stuckSince == nil {
                part.stuckSince = now
                newlyStuck.append(id)
            }
            stuck.append(id)
            if now - part.stuckSince! > graceNanos { failed = true }
            parts[id] = part
        }
        if stuck.isEmpty { return (.healthy, []) }
        return (failed ? .failed(stuck: stuck) : .degraded(stuck: stuck), newlyStuck)
    }
}

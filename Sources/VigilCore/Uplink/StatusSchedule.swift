/// When a batch carries the gateway's status: when something an operator must
/// hear of changed (a device's state, drops, damage, dead letters, the active
/// alarms, whether the journal can write), and at least every heartbeat_s
/// otherwise; and when the alarms changed, a heartbeat at once if no batch goes.
/// A status on every batch cost 5 bytes a polled reading on a 1 s flush (the
/// cellular budget), for queue counts and an uptime that the next periodic
/// status tells anyway.
public struct StatusSchedule: Sendable {
    private let everyNanos: Int64
    private var lastSent: GatewayStatus?
    private var lastSentAt: Int64 = 0

    /// `everySeconds` nil: no heartbeats configured, so every batch carries it.
    public init(everySeconds: Int?) {
        everyNanos = everySeconds.map { Int64($0) * 1_000_000_000 } ?? 0
    }

    /// Whether a batch sent at `nowNanos` (monotonic) should carry `status`.
    public func isDue(_ status: GatewayStatus, nowNanos: Int64) -> Bool {
        guard let last = lastSent else { return true }
        return nowNanos - lastSentAt >= everyNanos || !status.tellsTheSame(as: last)
    }

    /// The active alarms changed since the upstream last took a status: if no batch
    /// carries it, a heartbeat goes at once — with a disk that refuses to reserve
    /// an alarm event's seq, no batch can (GatewayStatus.alarms).
    public func alarmsChanged(_ alarms: [StatusAlarm]) -> Bool {
        alarms != (lastSent?.alarms ?? [])
    }

    /// The upstream acknowledged `status` (with a batch or as a heartbeat).
    public mutating func sent(_ status: GatewayStatus, nowNanos: Int64) {
        lastSent = status
        lastSentAt = nowNanos
    }
}

extension GatewayStatus {
    /// The same news, ignoring what moves all the time (uptime, queue lengths).
    func tellsTheSame(as other: GatewayStatus) -> Bool {
        dropped == other.dropped && corruptRecords == other.corruptRecords && deadLetters == other.deadLetters
            && devices.map(\.id) == other.devices.map(\.id) && devices.map(\.state) == other.devices.map(\.state)
            && alarms == other.alarms && (journalError == nil) == (other.journalError == nil)
    }
}

/// Report by exception: which polled readings go upstream (and into the journal).
/// `report: { on_change: true, deadband: 0.5 | deadband_pct: 1, every_s: 300 }`
/// in `uplink` (the default), on a device or on a point (the nearest wins).
/// Without one, every poll is reported.
public struct ReportPolicy: Sendable, Equatable {
    public enum Deadband: Sendable, Equatable {
        /// In the point's unit.
        case absolute(Double)
        /// Percent of the last value reported.
        case percent(Double)
    }

    /// Report a value that moved beyond the deadband; false: only the integrity reports.
    public var onChange = true
    public var deadband = Deadband.absolute(0)
    /// An integrity report at least this often, so the platform knows the point is alive.
    public var everySeconds = 300

    public init(onChange: Bool = true, deadband: Deadband = .absolute(0), everySeconds: Int = 300) {
        self.onChange = onChange; self.deadband = deadband; self.everySeconds = everySeconds
    }

    static let keys = ["on_change", "deadband", "deadband_pct", "every_s"]

    /// Reads a `report` object; nil (with the mistakes reported) when it is invalid.
    static func parse(_ r: ObjectReader) -> ReportPolicy? {
        var policy = ReportPolicy()
        policy.onChange = r.bool("on_change") ?? true
        let absolute = r.number("deadband", range: 0...1e12)
        let percent = r.number("deadband_pct", range: 0...100)
        if absolute != nil && percent != nil { r.report("deadband_pct", "give either deadband (in the point's unit) or deadband_pct, not both") }
        if let absolute { policy.deadband = .absolute(absolute) }
        if let percent { policy.deadband = .percent(percent) }
        if !policy.onChange && r.has("deadband") || !policy.onChange && r.has("deadband_pct") {
            r.report("on_change", "false sends only the every_s reports: a deadband has no effect")
        }
        policy.everySeconds = r.integer("every_s", range: 1...86_400) ?? 300
        return policy
    }
}

/// The policy of every point: a point's own, else its device's, else the uplink's.
public struct ReportPolicies: Sendable, Equatable {
    public var byPoint: [String: [String: ReportPolicy]] = [:]
    public var byDevice: [String: ReportPolicy] = [:]
    public var fallback: ReportPolicy?

    public init() {}

    public init(_ config: VigilConfig) {
        fallback = config.report
        for device in config.devices {
            if let policy = device.report { byDevice[device.id] = policy }
            for point in device.points { if let policy = point.report { byPoint[device.id, default: [:]][point.id] = policy } }
        }
    }

    public func policy(device: String, point: String) -> ReportPolicy? {
        byPoint[device]?[point] ?? byDevice[device] ?? fallback
    }

    public var isEveryPoll: Bool { fallback == nil && byDevice.isEmpty && byPoint.isEmpty }
}

/// Decides, reading by reading, what is reported. The alarm engine has seen every
/// poll before this runs; what it lets through is what the journal and the uplink get.
/// Always reported: the first reading of a point (after start, or after its device came
/// back online), a change of quality or of the error, a reading that raised or cleared
/// an alarm (`forced`), a move beyond the deadband, and one every `every_s`.
public struct ReportFilter: Sendable {
    private struct Sent { var value: PointValue?; var quality: Quality; var error: String?; var atMs: Int64 }
    private var policies: ReportPolicies
    private var sent: [String: [String: Sent]] = [:]

    public init(_ policies: ReportPolicies) { self.policies = policies }

    /// A reload: what was sent is kept, so an unchanged point does not report again.
    public mutating func reconfigure(_ policies: ReportPolicies) { self.policies = policies }

    /// The device came (back) online: its next readings go, whatever they are.
    public mutating func forget(device: String) { sent[device] = nil }

    /// `nowMs` on a monotonic clock.
    public mutating func admit(_ reading: Reading, nowMs: Int64, forced: Bool = false) -> Bool {
        guard let policy = policies.policy(device: reading.device, point: reading.point) else { return true }
        let current = Sent(value: reading.value, quality: reading.quality, error: reading.error, atMs: nowMs)
        guard let last = sent[reading.device]?[reading.point] else {
            sent[reading.device, default: [:]][reading.point] = current
            return true
        }
        let due = forced || last.quality != current.quality || last.error != current.error
            || nowMs - last.atMs >= Int64(policy.everySeconds) * 1000
            || policy.onChange && Self.moved(from: last.value, to: current.value, beyond: policy.deadband)
        if due { sent[reading.device]![reading.point] = current }
        return due
    }

    /// Numbers by the deadband (a move of exactly the deadband is not beyond it, but
    /// with no deadband any change goes); anything else (text, a bool, a label) on any change.
    static func moved(from old: PointValue?, to new: PointValue?, beyond deadband: ReportPolicy.Deadband) -> Bool {
        guard let old, let new else { return old != new }
        switch (old, new) {
        case (.bool, _), (_, .bool), (.string, _), (_, .string): return old != new
        default: break
        }
        guard let a = AlarmEngine.number(old), let b = AlarmEngine.number(new) else { return old != new }
        let delta = abs(b - a)
        switch deadband {
        case .absolute(let limit): return limit == 0 ? delta > 0 : delta > limit
        case .percent(let pct): return pct == 0 ? delta > 0 : delta > abs(a) * pct / 100
        }
    }
}

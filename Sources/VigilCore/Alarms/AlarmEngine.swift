/// One alarm rule: a level of one point, from the point's `alarms` (or its profile's).
public struct AlarmRule: Sendable, Equatable {
    public var device: String
    public var point: String
    public var level: AlarmLevel
    public var setpoint: Double
    public var deadband: Double
    public var onDelayMs: Int
    public var offDelayMs: Int
    public var latch: Bool
    public var severity: String?

    public init(device: String, point: String, level: AlarmLevel, setpoint: Double, deadband: Double = 0, onDelayMs: Int = 0,
                offDelayMs: Int = 0, latch: Bool = false, severity: String? = nil) {
        self.device = device; self.point = point; self.level = level; self.setpoint = setpoint; self.deadband = deadband
        self.onDelayMs = onDelayMs; self.offDelayMs = offDelayMs; self.latch = latch; self.severity = severity
    }

    var key: String { "\(device)/\(point)/\(level.rawValue)" }

    /// Every rule a config sets: the points' setpoints, and the detectors' own
    /// alarm, fault and warning reports (what a detector says about itself wins).
    public static func rules(for config: VigilConfig) -> [AlarmRule] {
        let inputs = config.gpio.inputs.compactMap { input in
            input.alarm.map { a in
                AlarmRule(device: GPIOSpec.device, point: input.id, level: .high, setpoint: 1, onDelayMs: a.onDelayMs ?? 0,
                          offDelayMs: a.offDelayMs ?? 0, latch: a.latch ?? false, severity: a.severity)
            }
        }
        return inputs + config.devices.filter(\.enabled).flatMap { device in
            device.points.flatMap { point -> [AlarmRule] in
                let reported: [PointRole: AlarmLevel] = [.alarm1: .high, .alarm2: .highhigh, .fault: .fault, .warning: .warning]
                if let role = point.role, let level = reported[role] {
                    return [AlarmRule(device: device.id, point: point.id, level: level, setpoint: 1, deadband: 0, onDelayMs: 0,
                                      offDelayMs: 0, latch: false, severity: role == .alarm2 || role == .fault ? "critical" : "warning")]
                }
                guard let a = point.alarms else { return [] }
                let levels: [(AlarmLevel, Double?)] = [(.high, a.high), (.highhigh, a.highHigh), (.low, a.low), (.lowlow, a.lowLow), (.rise, a.risePerMinute)]
                return levels.compactMap { level, setpoint in
                    setpoint.map {
                        AlarmRule(device: device.id, point: point.id, level: level, setpoint: $0, deadband: a.deadband ?? 0,
                                  onDelayMs: a.onDelayMs ?? 0, offDelayMs: a.offDelayMs ?? 0, latch: a.latch ?? false, severity: a.severity)
                    }
                }
            }
        }
    }
}

/// Decides alarms at the edge from readings: setpoints with hysteresis
/// (deadband), on and off delays, latching until acknowledged, and rate of
/// rise. A bad reading never raises (or clears) a threshold alarm. Runs on the
/// journal writer's thread, whether or not the journal took the readings.
public struct AlarmEngine: Sendable {
    enum Phase: Sendable, Equatable {
        case normal
        /// The condition holds, waiting out the on-delay.
        case pending(since: Int64)
        case active
        /// The clear condition holds, waiting out the off-delay.
        case clearing(since: Int64)
    }

    struct State: Sendable {
        var rule: AlarmRule
        var phase: Phase = .normal
        /// A latched alarm whose condition has gone, waiting for an acknowledgement.
        var conditionGone = false
        var acked = false
        /// For rate of rise: (monotonic ms, value) over the last minute.
        var samples: [(ms: Int64, value: Double)] = []
    }

    private var states: [String: State] = [:]
    private var byPoint: [String: [String]] = [:]

    public init(rules: [AlarmRule]) { reconfigure(rules) }

    /// New rules (a reload): alarms whose rule did not change keep their state.
    public mutating func reconfigure(_ rules: [AlarmRule]) {
        var next: [String: State] = [:]
        var index: [String: [String]] = [:]
        for rule in rules {
            next[rule.key] = states[rule.key].flatMap { $0.rule == rule ? $0 : nil } ?? State(rule: rule)
            index["\(rule.device)/\(rule.point)", default: []].append(rule.key)
        }
        states = next
        byPoint = index
    }

    /// The alarms active now, in the order of their keys (the stored ones: the
    /// forwarder asks every round, and building each key to compare was most of it).
    public var active: [AlarmRule] {
        states.filter { _, state in
            switch state.phase { case .active, .clearing: true; case .normal, .pending: false }
        }.sorted { $0.key < $1.key }.map(\.value.rule)
    }

    /// Feeds one reading; returns the events it causes. `nowMs` is monotonic;
    /// `seq` is the reading's in the journal, nil when the journal could not take it.
    public mutating func process(_ reading: Reading, seq: UInt64?, nowMs: Int64) -> [Event] {
        guard let keys = byPoint["\(reading.device)/\(reading.point)"] else { return [] }
        // Bad or stale readings, and readings in warm-up, inhibit or calibration, decide nothing.
        guard reading.quality == .good, reading.mode == nil, let value = Self.number(reading.value) else { return [] }
        var events: [Event] = []
        for key in keys {
            var state = states[key]!
            let rate = state.rule.level == .rise ? Self.ratePerMinute(&state.samples, value: value, nowMs: nowMs) : nil
            let measured = rate ?? value
            if state.rule.level == .rise && rate == nil { states[key] = state; continue } // not enough history yet
            if let event = step(&state, measured: measured, nowMs: nowMs, reading: reading, seq: seq) { events.append(event) }
            states[key] = state
        }
        return events
    }

    /// An operator's acknowledgement of a latched (or any active) alarm.
    public mutating func acknowledge(device: String, point: String, level: AlarmLevel, at time: WallTime) -> [Event] {
        let key = "\(device)/\(point)/\(level.rawValue)"
        guard var state = states[key], state.phase != .normal, !state.acked else { return [] }
        state.acked = true
        var events = [event(.alarmAcked, state.rule, value: nil, time: time, seq: nil)]
        if state.conditionGone {
            state.phase = .normal
            state.conditionGone = false
            state.acked = false
            events.append(event(.alarmCleared, state.rule, value: nil, time: time, seq: nil))
        }
        states[key] = state
        return events
    }

    private func step(_ state: inout State, measured v: Double, nowMs: Int64, reading: Reading, seq: UInt64?) -> Event? {
        let rule = state.rule
        let rising = rule.level != .low && rule.level != .lowlow
        let condition = rising ? v >= rule.setpoint : v <= rule.setpoint
        let clear = rising ? v < rule.setpoint - rule.deadband : v > rule.setpoint + rule.deadband
        switch state.phase {
        case .normal:
            guard condition else { return nil }
            if rule.onDelayMs == 0 { return raise(&state, v, reading, seq) }
            state.phase = .pending(since: nowMs)
        case .pending(let since):
            if !condition { state.phase = .normal; return nil }
            if nowMs - since >= Int64(rule.onDelayMs) { return raise(&state, v, reading, seq) }
        case .active:
            guard clear else { state.conditionGone = false; return nil }
            if rule.latch && !state.acked { state.conditionGone = true; return nil }
            if rule.offDelayMs == 0 { return clearAlarm(&state, v, reading, seq) }
            state.phase = .clearing(since: nowMs)
        case .clearing(let since):
            if !clear { state.phase = .active; return nil }
            if nowMs - since >= Int64(rule.offDelayMs) { return clearAlarm(&state, v, reading, seq) }
        }
        return nil
    }

    private func raise(_ state: inout State, _ v: Double, _ reading: Reading, _ seq: UInt64?) -> Event {
        state.phase = .active
        state.acked = false
        state.conditionGone = false
        return event(.alarmRaised, state.rule, value: v, time: reading.timestamp, seq: seq)
    }

    private func clearAlarm(_ state: inout State, _ v: Double, _ reading: Reading, _ seq: UInt64?) -> Event {
        state.phase = .normal
        state.acked = false
        return event(.alarmCleared, state.rule, value: v, time: reading.timestamp, seq: seq)
    }

    private func event(_ kind: Event.Kind, _ rule: AlarmRule, value: Double?, time: WallTime, seq: UInt64?) -> Event {
        Event(timestamp: time, kind: kind, device: rule.device,
              alarm: AlarmInfo(point: rule.point, level: rule.level, severity: rule.severity, value: value, setpoint: rule.setpoint, triggerSeq: seq))
    }

    /// The change per minute over the last minute of samples; nil with less than 10 s of history.
    static func ratePerMinute(_ samples: inout [(ms: Int64, value: Double)], value: Double, nowMs: Int64) -> Double? {
        samples.append((nowMs, value))
        samples.removeAll { nowMs - $0.ms > 60_000 }
        guard let first = samples.first, nowMs - first.ms >= 10_000 else { return nil }
        return (value - first.value) / (Double(nowMs - first.ms) / 60_000)
    }

    static func number(_ value: PointValue?) -> Double? {
        switch value {
        case .int(let v): return Double(v)
        case .uint(let v): return Double(v)
        case .float(let v): return Double(v.description) // 23.4, as the reading shows, not 23.399999618530273
        case .double(let v): return v
        case .bool(let b): return b ? 1 : 0
        case .string, nil: return nil
        }
    }
}

/// A local action: while an alarm matching `when` is active, drive an output
/// (gas highhigh → close the valve relay and sound the siren; flood → start the pump).
public struct ActionRule: Sendable, Equatable {
    public var device: String
    /// nil: any point of the device.
    public var point: String?
    /// nil: any level.
    public var level: AlarmLevel?
    public var output: String
    public var value: Bool
    /// Once triggered, the output stays until reset by an operator, even when the alarm clears.
    public var latch: Bool

    public init(device: String, point: String? = nil, level: AlarmLevel? = nil, output: String, value: Bool = true, latch: Bool = false) {
        self.device = device; self.point = point; self.level = level; self.output = output; self.value = value; self.latch = latch
    }

    public func matches(_ alarm: AlarmRule) -> Bool {
        alarm.device == device && (point == nil || alarm.point == point) && (level == nil || alarm.level == level)
    }
}

/// Decides what every output should be: an operator's override wins, then any
/// action whose alarm is active (or latched), else the output's safe state.
public struct ActionPlanner: Sendable {
    public let rules: [ActionRule]
    /// Each output's state when nothing asks otherwise (what it is when the agent is not running).
    public let safeStates: [String: Bool]
    private var latched: Set<Int> = []
    private var overrides: [String: Bool] = [:]

    public init(rules: [ActionRule], safeStates: [String: Bool]) {
        self.rules = rules
        self.safeStates = safeStates
    }

    /// The wanted state of every output, given the alarms active now.
    public mutating func plan(active: [AlarmRule]) -> [String: Bool] {
        var wanted = safeStates
        for (i, rule) in rules.enumerated() where active.contains(where: rule.matches) || latched.contains(i) {
            if rule.latch { latched.insert(i) }
            wanted[rule.output] = rule.value
        }
        for (output, value) in overrides { wanted[output] = value }
        return wanted
    }

    /// A technician forces an output (nil hands it back to the rules).
    public mutating func override(_ output: String, _ value: Bool?) { overrides[output] = value }

    /// Releases latched actions on an output (after the site is made safe).
    public mutating func resetLatch(_ output: String) {
        latched = latched.filter { rules[$0].output != output }
    }
}

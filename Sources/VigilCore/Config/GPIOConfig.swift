/// Local inputs and outputs: dry contacts read as points of the reserved
/// device `gpio`, relays driven by action rules, and the status LED.
public struct GPIOSpec: Sendable, Equatable {
    /// The device id every input's readings carry.
    public static let device = "gpio"

    public var inputs: [InputSpec] = []
    public var outputs: [OutputSpec] = []
    public var actions: [ActionRule] = []
    public var statusLED: GPIOLine?

    public init() {}

    public var isEmpty: Bool { inputs.isEmpty && outputs.isEmpty && statusLED == nil }
    /// Each output's state when no rule or operator asks otherwise.
    public var safeStates: [String: Bool] { Dictionary(uniqueKeysWithValues: outputs.map { ($0.id, $0.safeState) }) }
}

/// A dry contact (smoke alarm relay, float switch, flood sensor, tamper
/// contact): a bool point, true while the contact is active.
public struct InputSpec: Sendable, Equatable {
    public var id: String
    public var line: GPIOLine
    public var debounceMs: Int
    /// A reading is also emitted this often when nothing changes, so the
    /// upstream sees the input is watched.
    public var intervalMs: Int
    /// The alarm raised while the contact is active; nil: the input is only recorded.
    public var alarm: AlarmSetpoints?

    public init(id: String, line: GPIOLine, debounceMs: Int = 50, intervalMs: Int = 60_000, alarm: AlarmSetpoints? = InputSpec.defaultAlarm) {
        self.id = id; self.line = line; self.debounceMs = debounceMs; self.intervalMs = intervalMs; self.alarm = alarm
    }

    /// An active contact is an alarm unless the config says otherwise.
    public static var defaultAlarm: AlarmSetpoints {
        var a = AlarmSetpoints()
        a.high = 1
        a.severity = "critical"
        return a
    }
}

/// A relay (siren, strobe, gas shut-off valve, pump) or another output line.
public struct OutputSpec: Sendable, Equatable {
    public var id: String
    public var line: GPIOLine
    /// Where the output is put at start, at an orderly stop, and whenever no
    /// rule holds it. What it does when the agent dies is the hardware's
    /// business: see docs/gpio.md.
    public var safeState: Bool

    public init(id: String, line: GPIOLine, safeState: Bool = false) { self.id = id; self.line = line; self.safeState = safeState }
}

/// The one config state of a running agent. A reload applies at once what can
/// change under a running agent (buses, devices, alarms, report by exception,
/// GPIO inputs and actions); the rest (uplink, journal, gateway, watchdog,
/// control socket, GPIO outputs and status LED) keeps running as started and
/// waits for a restart. `effective` is what runs — every part reads it — and
/// `waitingForRestart` names the sections of the file that are not running yet.
public struct RunningConfig: Sendable, Equatable {
    /// What runs now.
    public private(set) var effective: VigilConfig
    /// Sections of the last config loaded that differ from what runs, until a restart.
    public private(set) var waitingForRestart: [String] = []
    /// What the agent started with: the sections that only a restart changes.
    private let started: VigilConfig

    public init(_ config: VigilConfig) {
        effective = config
        started = config
    }

    /// Applies a new (valid) config: returns the effective config, the
    /// started one's restart-only sections kept.
    @discardableResult
    public mutating func apply(_ loaded: VigilConfig) -> VigilConfig {
        var next = loaded
        var waiting: [String] = []
        func keep<T: Equatable>(_ section: String, _ path: WritableKeyPath<VigilConfig, T>) {
            if loaded[keyPath: path] != started[keyPath: path] { waiting.append(section) }
            next[keyPath: path] = started[keyPath: path]
        }
        keep("uplink", \.uplink)
        keep("journal", \.journal)
        keep("gateway", \.gateway)
        keep("watchdog", \.watchdog)
        keep("control socket", \.control)
        if started.gpio.isEmpty {
            // No GPIO was set up at start: inputs and actions too wait for a restart.
            if !loaded.gpio.isEmpty { waiting.append("gpio") }
            next.gpio = started.gpio
        } else {
            if loaded.gpio.outputs != started.gpio.outputs || loaded.gpio.statusLED != started.gpio.statusLED {
                waiting.append("outputs and status LED")
            }
            next.gpio.outputs = started.gpio.outputs
            next.gpio.statusLED = started.gpio.statusLED
        }
        effective = next
        waitingForRestart = waiting
        return next
    }
}

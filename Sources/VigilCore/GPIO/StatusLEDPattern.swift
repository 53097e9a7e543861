/// What the status LED says, most urgent first: an installer at the cabinet
/// tells the three apart without a laptop.
public enum StatusLEDPattern: String, Sendable, CaseIterable {
    /// An alarm is active: fast blink, 4 Hz.
    case alarm
    /// The uplink is failing (readings are being kept in the journal): slow blink, 1 Hz.
    case uplinkDown = "uplink-down"
    /// Polling and forwarding: steady on, with a short off-blink every 2 s so a lit LED on a hung agent is told apart.
    case ok

    public static func current(alarmActive: Bool, uplinkHealthy: Bool) -> StatusLEDPattern {
        alarmActive ? .alarm : uplinkHealthy ? .ok : .uplinkDown
    }

    /// Whether the LED is lit `ms` milliseconds into the pattern (any monotonic clock).
    public func lit(atMs ms: Int64) -> Bool {
        switch self {
        case .alarm: return ms % 250 < 125
        case .uplinkDown: return ms % 1000 < 500
        case .ok: return ms % 2000 >= 100
        }
    }
}

public enum Quality: String, Sendable {
    case good, bad, stale
}

/// One point's value at one poll.
public struct Reading: Sendable, Equatable {
    public var timestamp: WallTime
    public var device: String
    public var point: String
    public var value: PointValue?
    public var raw: RawRegisters
    public var unit: String?
    public var label: String?
    public var quality: Quality
    public var error: String?
    /// The detector's state when it was not measuring normally (warm-up, inhibit,
    /// calibration): such readings raise no alarm.
    public var mode: String?

    public init(timestamp: WallTime, device: String, point: String, value: PointValue?, raw: RawRegisters,
                unit: String?, label: String?, quality: Quality, error: String?, mode: String? = nil) {
        self.timestamp = timestamp; self.device = device; self.point = point; self.value = value; self.raw = raw
        self.unit = unit; self.label = label; self.quality = quality; self.error = error; self.mode = mode
    }
}

/// Something that happened to a device (or the gateway), as opposed to a value.
public struct Event: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case deviceOnline = "device_online"
        case deviceOffline = "device_offline"
        case busFailed = "bus_failed"
        case busRecovered = "bus_recovered"
        /// The journal found damage at start (torn tail, corrupt records, files set aside).
        case journalRecovered = "journal_recovered"
        /// The last run did not stop cleanly (crash, watchdog reset, power cut).
        case uncleanStop = "unclean_stop"
        case alarmRaised = "alarm_raised"
        case alarmCleared = "alarm_cleared"
        case alarmAcked = "alarm_acked"
        /// A relay or other output was switched (by an action rule, an operator, or at start and stop).
        case outputChanged = "output_changed"
    }
    public var timestamp: WallTime
    public var kind: Kind
    public var device: String?
    public var bus: String?
    public var detail: String?
    /// For alarm events: which alarm, and the reading that decided it.
    public var alarm: AlarmInfo?

    public init(timestamp: WallTime, kind: Kind, device: String? = nil, bus: String? = nil, detail: String? = nil, alarm: AlarmInfo? = nil) {
        self.timestamp = timestamp; self.kind = kind; self.device = device; self.bus = bus; self.detail = detail; self.alarm = alarm
    }
}

public enum AlarmLevel: String, Sendable, CaseIterable {
    case high, highhigh, low, lowlow
    /// Rate of rise (`rise_per_min`), for water levels.
    case rise
    /// Reported by the detector itself (role fault / warning).
    case fault, warning
}

public struct AlarmInfo: Sendable, Equatable {
    public var point: String
    public var level: AlarmLevel
    public var severity: String?
    /// The value that raised or cleared it (nil for an acknowledgement).
    public var value: Double?
    public var setpoint: Double
    /// The seq of the reading that raised or cleared it.
    public var triggerSeq: UInt64?

    public init(point: String, level: AlarmLevel, severity: String?, value: Double?, setpoint: Double, triggerSeq: UInt64?) {
        self.point = point; self.level = level; self.severity = severity; self.value = value; self.setpoint = setpoint; self.triggerSeq = triggerSeq
    }
}

public enum Record: Sendable, Equatable {
    case reading(Reading)
    case event(Event)

    public var isEvent: Bool { if case .event = self { true } else { false } }

    public var timestamp: WallTime {
        switch self {
        case .reading(let r): r.timestamp
        case .event(let e): e.timestamp
        }
    }
}

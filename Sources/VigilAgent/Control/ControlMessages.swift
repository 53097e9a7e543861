import VigilCore

/// The control socket's protocol (`/run/vigil/control.sock`): one JSON
/// request per line, one JSON reply per line. The `vigil` commands are its
/// client; scripts may speak it too.
public struct ControlRequest: Codable, Sendable, Equatable {
    public var command: String
    public var device: String?
    public var bus: String?
    public var probe: ModbusProbe?
    /// An alarm as `DEVICE/POINT/LEVEL`.
    public var alarm: String?
    public var output: String?
    /// For `gpio.set`: on, off or auto.
    public var state: String?
    public var count: Int?
    /// A dead letter's file name.
    public var name: String?
    /// A GPIO line: a board label, an input id, or CHIP:OFFSET.
    public var line: String?

    public init(_ command: String) { self.command = command }
}

/// Exit codes of every `vigil` command, and of failed control requests.
public enum ControlCode {
    public static let ok: Int32 = 0
    public static let failed: Int32 = 1
    public static let usage: Int32 = 2
    /// A device or the communication with it failed.
    public static let device: Int32 = 3
}

/// A reply: `result` when `ok`, else `error` and the exit code the client should use.
public struct ControlReply<Result: Codable & Sendable>: Codable, Sendable {
    public var ok: Bool
    public var result: Result?
    public var error: String?
    public var code: Int32?

    public init(result: Result) { ok = true; self.result = result }
    public init(error: String, code: Int32) { ok = false; self.error = error; self.code = code }
}

public struct StatusReport: Codable, Sendable {
    public struct Bus: Codable, Sendable {
        public var id: String
        public var endpoint: String
        public var state: String
        public var lastError: String?
        public var polls: Int
        public var requests: Int
        public var failedRequests: Int
        public var reconnects: Int
        /// Poll slots missed because the bus could not keep up.
        public var skippedSlots: Int
    }
    public struct Device: Codable, Sendable {
        public var id: String
        public var bus: String
        public var unit: Int
        public var state: String
        public var lastGoodPoll: String?
        public var polls: Int
        public var failedPolls: Int
        public var lastError: String?
        public var responseMs: Double?
        /// Poll slots missed because the bus could not keep up with interval_ms.
        public var skippedSlots: Int
    }
    public struct Queue: Codable, Sendable {
        public var pendingEvents: UInt64
        public var pendingTelemetry: UInt64
        public var bytes: Int
        public var oldestPendingAgeSeconds: Double?
        public var droppedEvents: UInt64
        public var droppedTelemetry: UInt64
        public var corruptRecords: UInt64
        public var lastSeq: UInt64
        /// Why the journal refuses records now (a full disk), nil while it takes them.
        public var writeError: String?
    }
    public struct Uplink: Codable, Sendable {
        public var name: String
        public var state: String
        public var lastSuccess: String?
        public var lastError: String?
        public var backoffMs: Int
        public var batchesDelivered: Int
        public var recordsDelivered: Int
        public var deadLetters: Int
        /// Bytes on the wire both ways (UTC days), kept across restarts: what the SIM is billed for.
        public var bytesToday: UInt64
        public var bytesLast30Days: UInt64
    }
    public struct Watchdog: Codable, Sendable {
        public var lastFeedSecondsAgo: Double?
        public var hardwareDevice: String?
        public var stuckParts: [String]
    }

    public var version: String
    public var gateway: String
    public var board: String?
    public var uptimeSeconds: Double
    public var config: String
    /// Sections of the config file reloaded but not running yet (they need a restart).
    public var configWaitingForRestart: [String]? = nil
    public var buses: [Bus]
    public var devices: [Device]
    public var queue: Queue
    public var uplink: Uplink
    public var watchdog: Watchdog
    public var alarms: [AlarmReport]
    public var outputs: [OutputReport]
}

public struct AlarmReport: Codable, Sendable, Equatable {
    /// `DEVICE/POINT/LEVEL`, as `vigil alarm ack` takes it.
    public var id: String
    public var device: String
    public var point: String
    public var level: String
    public var severity: String?
    public var setpoint: Double
    public var latched: Bool
    /// The device stopped answering: the alarm holds its last known state,
    /// which nobody can confirm until the device answers again.
    public var deviceOffline = false

    public init(_ rule: AlarmRule) {
        id = "\(rule.device)/\(rule.point)/\(rule.level.rawValue)"
        device = rule.device; point = rule.point; level = rule.level.rawValue; severity = rule.severity; setpoint = rule.setpoint
        latched = rule.latch
    }
}

public struct OutputReport: Codable, Sendable, Equatable {
    public var id: String
    public var line: String
    public var state: String
    public var safeState: String
    public var overridden: Bool
    public var error: String?
    public init(id: String, line: String, state: String, safeState: String, overridden: Bool, error: String?) {
        self.id = id; self.line = line; self.state = state; self.safeState = safeState; self.overridden = overridden; self.error = error
    }
}

public struct ValueReport: Codable, Sendable, Equatable {
    public var device: String
    public var point: String
    /// The value as the readings carry it (a number, true/false, or text).
    public var value: PointValue?
    public var unit: String?
    public var label: String?
    public var quality: String
    public var error: String?
    public var mode: String?
    public var time: String
    public var ageSeconds: Double
    public var raw: String

    public init(_ r: Reading, now: WallTime) {
        device = r.device; point = r.point; unit = r.unit; label = r.label; quality = r.quality.rawValue; error = r.error
        mode = r.mode; time = r.timestamp.iso8601; raw = r.raw.hex
        ageSeconds = Double(now.milliseconds - r.timestamp.milliseconds) / 1000
        value = r.value
    }
}

public struct EventReport: Codable, Sendable, Equatable {
    public var time: String
    public var event: String
    public var device: String?
    public var point: String?
    public var level: String?
    public var value: Double?
    public var detail: String?

    public init(_ e: Event) {
        time = e.timestamp.iso8601; event = e.kind.rawValue; device = e.device; point = e.alarm?.point; level = e.alarm?.level.rawValue
        value = e.alarm?.value; detail = e.detail
    }
}

public struct AlarmsReport: Codable, Sendable {
    public var active: [AlarmReport]
    public var recent: [EventReport]
    public init(active: [AlarmReport], recent: [EventReport]) { self.active = active; self.recent = recent }
}

public struct QueuePeekReport: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var seq: UInt64
        public var lane: String
        /// The record as the uplink sends it (JSON).
        public var json: String
    }
    public var records: [Entry]
    public init(records: [Entry]) { self.records = records }
}

public struct DeadLetterReport: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var name: String
        public var bytes: Int
        public var modified: String
    }
    public var directory: String
    public var letters: [Entry]
    /// For retry and delete: what was done.
    public var done: String?
    public init(directory: String, letters: [Entry], done: String? = nil) { self.directory = directory; self.letters = letters; self.done = done }
}

public struct UplinkTestReport: Codable, Sendable {
    /// "http" or "mqtt"; for mqtt, `connectMs` is until the CONNACK (name, TCP and TLS included) and `totalMs` until the PUBACK.
    public var transport: String?
    public var url: String
    public var httpStatus: Int?
    public var outcome: String
    public var error: String?
    public var nameLookupMs: Double
    public var connectMs: Double
    public var tlsMs: Double
    public var totalMs: Double
    /// http: the version of the batch body the upstream takes (2 when its answer asked for it).
    public var batchVersion: Int?
    public init(url: String, httpStatus: Int?, outcome: String, error: String?, nameLookupMs: Double, connectMs: Double, tlsMs: Double, totalMs: Double) {
        self.url = url; self.httpStatus = httpStatus; self.outcome = outcome; self.error = error
        self.nameLookupMs = nameLookupMs; self.connectMs = connectMs; self.tlsMs = tlsMs; self.totalMs = totalMs
    }
}

public struct GPIOReport: Codable, Sendable {
    public struct Input: Codable, Sendable {
        public var id: String
        public var line: String
        public var active: Bool?
        public var quality: String?
        public var error: String?
    }
    /// A line of the board file, and what the config uses it for.
    public struct BoardLine: Codable, Sendable {
        public var label: String
        public var kind: String
        public var line: String
        public var usedBy: String?
    }
    public var inputs: [Input]
    public var outputs: [OutputReport]
    public var statusLED: String?
    public var board: String?
    public var boardLines: [BoardLine]
}

/// `vigil gpio read LINE`: one line's level now.
public struct LineReading: Codable, Sendable {
    public var line: String
    public var active: Bool
    /// "input sump-float (the agent's watcher)" or "requested for this read".
    public var source: String
}

/// An acknowledgement or an output change: the events it wrote.
public struct ActionReport: Codable, Sendable {
    public var events: [EventReport]
    public init(events: [EventReport]) { self.events = events }
}

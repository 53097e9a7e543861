/// What the gateway says about itself in heartbeats and batches: the upstream
/// tells a silent gateway from a quiet site, and hears of every drop.
public struct GatewayStatus: Sendable, Equatable {
    public var uptimeSeconds: Int64
    public var pending: [JournalLane: UInt64]
    public var oldestPendingMs: Int64?
    public var dropped: [JournalLane: UInt64]
    public var corruptRecords: UInt64
    public var deadLetters: Int
    public var devices: [(id: String, state: String)]
    /// The alarms active now. They also go as events, but an event needs the journal
    /// to reserve its seq: with a disk that refuses even that (remounted read-only),
    /// the status is how the upstream still hears of an alarm.
    public var alarms: [StatusAlarm]
    /// Why the journal cannot write, while it cannot (a full or read-only disk).
    public var journalError: String?

    public init(uptimeSeconds: Int64, pending: [JournalLane: UInt64], oldestPendingMs: Int64?, dropped: [JournalLane: UInt64],
                corruptRecords: UInt64, deadLetters: Int, devices: [(id: String, state: String)], alarms: [StatusAlarm] = [],
                journalError: String? = nil) {
        self.uptimeSeconds = uptimeSeconds; self.pending = pending; self.oldestPendingMs = oldestPendingMs; self.dropped = dropped
        self.corruptRecords = corruptRecords; self.deadLetters = deadLetters; self.devices = devices
        self.alarms = alarms; self.journalError = journalError
    }

    public static func == (a: GatewayStatus, b: GatewayStatus) -> Bool {
        a.uptimeSeconds == b.uptimeSeconds && a.pending == b.pending && a.dropped == b.dropped && a.deadLetters == b.deadLetters
            && a.devices.map(\.id) == b.devices.map(\.id) && a.devices.map(\.state) == b.devices.map(\.state)
            && a.alarms == b.alarms && a.journalError == b.journalError
    }

    func appendJSON(to out: inout [UInt8]) {
        RecordJSON.literal(#"{"uptime_s":"#, to: &out); RecordJSON.appendInteger(uptimeSeconds, to: &out)
        RecordJSON.literal(#","queue":{"events":"#, to: &out); RecordJSON.appendInteger(pending[.events] ?? 0, to: &out)
        RecordJSON.literal(#","telemetry":"#, to: &out); RecordJSON.appendInteger(pending[.telemetry] ?? 0, to: &out)
        RecordJSON.literal(#","oldest":"#, to: &out)
        if let oldest = oldestPendingMs { RecordJSON.appendString(WallTime(milliseconds: oldest, clockSynced: true).iso8601, to: &out) } else { RecordJSON.literal("null", to: &out) }
        RecordJSON.literal(#"},"dropped":{"events":"#, to: &out); RecordJSON.appendInteger(dropped[.events] ?? 0, to: &out)
        RecordJSON.literal(#","telemetry":"#, to: &out); RecordJSON.appendInteger(dropped[.telemetry] ?? 0, to: &out)
        RecordJSON.literal(#"},"corrupt_records":"#, to: &out); RecordJSON.appendInteger(corruptRecords, to: &out)
        RecordJSON.literal(#","dead_letters":"#, to: &out); RecordJSON.appendInteger(deadLetters, to: &out)
        RecordJSON.literal(#","alarms":["#, to: &out)
        for (i, alarm) in alarms.enumerated() {
            if i > 0 { out.append(0x2C) }
            RecordJSON.literal(#"{"device":"#, to: &out); RecordJSON.appendString(alarm.device, to: &out)
            RecordJSON.literal(#","point":"#, to: &out); RecordJSON.appendString(alarm.point, to: &out)
            RecordJSON.literal(#","level":"#, to: &out); RecordJSON.appendString(alarm.level.rawValue, to: &out)
            out.append(0x7D)
        }
        RecordJSON.literal(#"],"journal_error":"#, to: &out)
        if let journalError { RecordJSON.appendString(journalError, to: &out) } else { RecordJSON.literal("null", to: &out) }
        RecordJSON.literal(#","devices":{"#, to: &out)
        for (i, device) in devices.enumerated() {
            if i > 0 { out.append(0x2C) }
            RecordJSON.appendString(device.id, to: &out); out.append(0x3A); RecordJSON.appendString(device.state, to: &out)
        }
        RecordJSON.literal("}}", to: &out)
    }

    /// A heartbeat on its own: `{ gateway, heartbeat: true, sent_at, status }`.
    public func heartbeatJSON(gateway: String, sentAt: WallTime) -> [UInt8] {
        var out: [UInt8] = []
        RecordJSON.literal(#"{"gateway":"#, to: &out); RecordJSON.appendString(gateway, to: &out)
        RecordJSON.literal(#","heartbeat":true,"sent_at":"#, to: &out); RecordJSON.appendString(sentAt.iso8601, to: &out)
        RecordJSON.literal(#","status":"#, to: &out)
        appendJSON(to: &out)
        out.append(0x7D)
        return out
    }
}

/// An active alarm as the status names it.
public struct StatusAlarm: Sendable, Equatable {
    public var device: String
    public var point: String
    public var level: AlarmLevel

    public init(device: String, point: String, level: AlarmLevel) {
        self.device = device; self.point = point; self.level = level
    }
}

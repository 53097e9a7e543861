/// One batch for the upstream, and its JSON form: the contract an upstream
/// implements (docs/uplink-protocol.md).
public struct UplinkBatch: Sendable {
    public var gateway: String
    public var lane: JournalLane
    public var firstSeq: UInt64
    public var lastSeq: UInt64
    public var records: [StoredRecord]

    public init(gateway: String, lane: JournalLane, firstSeq: UInt64, lastSeq: UInt64, records: [StoredRecord]) {
        self.gateway = gateway; self.lane = lane; self.firstSeq = firstSeq; self.lastSeq = lastSeq; self.records = records
    }

    /// Deterministic: a batch resent after a crash carries the same id. Also the Idempotency-Key.
    public var id: String { "\(gateway)-\(firstSeq)-\(lastSeq)" }

    /// `{ gateway, batch_id, first_seq, last_seq, sent_at, lane, readings: [...], events: [...], status }`;
    /// `raw: false`: readings without their `raw` (`send_raw: false`).
    public func json(sentAt: WallTime, status: GatewayStatus?, raw: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.count * 190 + 256)
        RecordJSON.literal(#"{"gateway":"#, to: &out); RecordJSON.appendString(gateway, to: &out)
        RecordJSON.literal(#","batch_id":"#, to: &out); RecordJSON.appendString(id, to: &out)
        RecordJSON.literal(#","first_seq":"#, to: &out); RecordJSON.appendInteger(firstSeq, to: &out)
        RecordJSON.literal(#","last_seq":"#, to: &out); RecordJSON.appendInteger(lastSeq, to: &out)
        RecordJSON.literal(#","sent_at":"#, to: &out); RecordJSON.appendString(sentAt.iso8601, to: &out)
        RecordJSON.literal(#","lane":"#, to: &out); RecordJSON.appendString(lane.rawValue, to: &out)
        for (key, wantEvents) in [(#","readings":["#, false), (#","events":["#, true)] {
            out.append(contentsOf: key.utf8)
            var first = true
            for stored in records {
                let isEvent = if case .event = stored.record { true } else { false }
                guard isEvent == wantEvents else { continue }
                if !first { out.append(0x2C) }
                first = false
                RecordJSON.append(stored.record, seq: stored.seq, raw: raw, to: &out)
                out.removeLast() // the newline
            }
            out.append(0x5D)
        }
        if let status {
            RecordJSON.literal(#","status":"#, to: &out)
            status.appendJSON(to: &out)
        }
        out.append(0x7D)
        return out
    }
}

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

    public init(uptimeSeconds: Int64, pending: [JournalLane: UInt64], oldestPendingMs: Int64?, dropped: [JournalLane: UInt64],
                corruptRecords: UInt64, deadLetters: Int, devices: [(id: String, state: String)]) {
        self.uptimeSeconds = uptimeSeconds; self.pending = pending; self.oldestPendingMs = oldestPendingMs; self.dropped = dropped
        self.corruptRecords = corruptRecords; self.deadLetters = deadLetters; self.devices = devices
    }

    public static func == (a: GatewayStatus, b: GatewayStatus) -> Bool {
        a.uptimeSeconds == b.uptimeSeconds && a.pending == b.pending && a.dropped == b.dropped && a.deadLetters == b.deadLetters
            && a.devices.map(\.id) == b.devices.map(\.id) && a.devices.map(\.state) == b.devices.map(\.state)
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

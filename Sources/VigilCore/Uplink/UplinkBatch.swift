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

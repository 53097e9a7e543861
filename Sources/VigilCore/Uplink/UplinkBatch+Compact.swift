/// Version 2 of the batch body (docs/uplink-protocol.md, "Version 2"): the
/// same records, with each reading a row instead of an object,
///
///     [seq step, ms step, device, point, value, raw, unit, quality, {rare fields}?]
///
/// (`raw` a number when it is the float32 value's own bits: Float32RawShorthand),
/// steps counted from the previous row (the first from the batch's `seq`, its
/// first seq, and from `sent_ms`, the time it was sent), and the rare fields
/// (`clock_synced: false`, `label`, `error`, `mode`) in a trailing object only
/// when a reading has one. Events stay objects. What version 1 says twice is
/// left out: `batch_id`, `last_seq` and `lane` follow from the records. Gzipped,
/// a 1 s batch of a 14-point site is a third smaller: the key names version 1
/// repeats on every reading were most of what gzip could not take out, and on a
/// 1 s flush the batch's own fields weigh as much as its readings. The gateway
/// sends it only to an upstream that asked for it (`Vigil-Batch: 2`).
extension UplinkBatch {
    public func compactJSON(sentAt: WallTime, status: GatewayStatus?, raw: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.count * 64 + 128)
        RecordJSON.literal(#"{"v":2,"gateway":"#, to: &out); RecordJSON.appendString(gateway, to: &out)
        RecordJSON.literal(#","seq":"#, to: &out); RecordJSON.appendInteger(firstSeq, to: &out)
        RecordJSON.literal(#","sent_ms":"#, to: &out); RecordJSON.appendInteger(sentAt.milliseconds, to: &out)
        var previousSeq = firstSeq
        var previousMs = sentAt.milliseconds
        var firstRow = true
        for stored in records {
            guard case .reading(let r) = stored.record else { continue }
            RecordJSON.literal(firstRow ? #","readings":[["# : ",[", to: &out)
            firstRow = false
            RecordJSON.appendInteger(stored.seq - previousSeq, to: &out); out.append(0x2C)
            RecordJSON.appendInteger(r.timestamp.milliseconds - previousMs, to: &out); out.append(0x2C)
            previousSeq = stored.seq
            previousMs = r.timestamp.milliseconds
            RecordJSON.appendString(r.device, to: &out); out.append(0x2C)
            RecordJSON.appendString(r.point, to: &out); out.append(0x2C)
            RecordJSON.appendValue(r.value, to: &out); out.append(0x2C)
            if !raw {
                RecordJSON.literal("null", to: &out)
            } else if case .float(let value)? = r.value, let code = Float32RawShorthand.code(for: value, raw: r.raw) {
                RecordJSON.appendInteger(code, to: &out)
            } else {
                RecordJSON.appendHex(r.raw, to: &out)
            }
            out.append(0x2C)
            if let unit = r.unit { RecordJSON.appendString(unit, to: &out) } else { RecordJSON.literal("null", to: &out) }
            RecordJSON.literal(#",""#, to: &out); out.append(contentsOf: r.quality.rawValue.utf8); out.append(0x22)
            appendRareFields(of: r, to: &out)
            out.append(0x5D)
        }
        if !firstRow { out.append(0x5D) }
        var firstEvent = true
        for stored in records where stored.record.isEvent {
            RecordJSON.literal(firstEvent ? #","events":["# : ",", to: &out)
            firstEvent = false
            RecordJSON.append(stored.record, seq: stored.seq, to: &out)
            out.removeLast() // the newline
        }
        if !firstEvent { out.append(0x5D) }
        if let status {
            RecordJSON.literal(#","status":"#, to: &out)
            status.appendJSON(to: &out)
        }
        out.append(0x7D)
        return out
    }

    private func appendRareFields(of r: Reading, to out: inout [UInt8]) {
        let fields: [(key: StaticString, value: String)] = [("label", r.label), ("error", r.error), ("mode", r.mode)]
            .compactMap { field in field.1.map { (field.0, $0) } }
        guard !r.timestamp.clockSynced || !fields.isEmpty else { return }
        RecordJSON.literal(",{", to: &out)
        if !r.timestamp.clockSynced { RecordJSON.literal(#""clock_synced":false"#, to: &out) }
        for (i, field) in fields.enumerated() {
            if i > 0 || !r.timestamp.clockSynced { out.append(0x2C) }
            out.append(0x22); RecordJSON.literal(field.key, to: &out); RecordJSON.literal(#"":"#, to: &out)
            RecordJSON.appendString(field.value, to: &out)
        }
        out.append(0x7D)
    }
}

/// The JSON Lines form of records: one object per line, keys in a fixed order.
/// Written by hand into a byte buffer because it runs for every point of every
/// poll (String appends cost more than the Modbus request itself).
public enum RecordJSON {
    /// Appends one record and its newline. `raw: false` leaves a reading's `raw` out
    /// (an uplink set `send_raw: false`; the journal and `vigil values` keep it).
    public static func append(_ record: Record, seq: UInt64, raw: Bool = true, to out: inout [UInt8]) {
        literal(#"{"seq":"#, to: &out)
        appendInteger(seq, to: &out)
        switch record {
        case .reading(let r):
            appendTime(r.timestamp, to: &out)
            literal(#","device":"#, to: &out); appendString(r.device, to: &out)
            literal(#","point":"#, to: &out); appendString(r.point, to: &out)
            literal(#","value":"#, to: &out); appendValue(r.value, to: &out)
            if raw { literal(#","raw":"#, to: &out); appendHex(r.raw, to: &out) }
            if let unit = r.unit { literal(#","unit":"#, to: &out); appendString(unit, to: &out) }
            if let label = r.label { literal(#","label":"#, to: &out); appendString(label, to: &out) }
            literal(#","quality":""#, to: &out); out.append(contentsOf: r.quality.rawValue.utf8); out.append(0x22)
            if let error = r.error { literal(#","error":"#, to: &out); appendString(error, to: &out) }
            if let mode = r.mode { literal(#","mode":"#, to: &out); appendString(mode, to: &out) }
        case .event(let e):
            appendTime(e.timestamp, to: &out)
            literal(#","event":""#, to: &out); out.append(contentsOf: e.kind.rawValue.utf8); out.append(0x22)
            if let device = e.device { literal(#","device":"#, to: &out); appendString(device, to: &out) }
            if let bus = e.bus { literal(#","bus":"#, to: &out); appendString(bus, to: &out) }
            if let detail = e.detail { literal(#","detail":"#, to: &out); appendString(detail, to: &out) }
            if let a = e.alarm {
                literal(#","point":"#, to: &out); appendString(a.point, to: &out)
                literal(#","level":""#, to: &out); out.append(contentsOf: a.level.rawValue.utf8); out.append(0x22)
                if let severity = a.severity { literal(#","severity":"#, to: &out); appendString(severity, to: &out) }
                literal(#","value":"#, to: &out); appendValue(a.value.map { .double($0) }, to: &out)
                literal(#","setpoint":"#, to: &out); appendValue(.double(a.setpoint), to: &out)
                if let seq = a.triggerSeq { literal(#","trigger_seq":"#, to: &out); appendInteger(seq, to: &out) }
            }
        }
        literal("}\n", to: &out)
    }

    /// Appends a literal without going through String's generic UTF-8 view.
    @inline(__always)
    public static func literal(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// One record as a line of text, without the newline.
    public static func line(_ record: Record, seq: UInt64) -> String {
        var bytes: [UInt8] = []
        append(record, seq: seq, to: &bytes)
        return String(decoding: bytes.dropLast(), as: UTF8.self)
    }

    private static func appendTime(_ t: WallTime, to out: inout [UInt8]) {
        literal(#","ts":""#, to: &out)
        t.appendISO8601(to: &out)
        literal(t.clockSynced ? #"","clock_synced":true"# : #"","clock_synced":false"#, to: &out)
    }

    public static func appendInteger<T: BinaryInteger>(_ v: T, to out: inout [UInt8]) {
        if v < 0 { out.append(0x2D) }
        var magnitude = UInt64(v.magnitude)
        // 20 digits hold any UInt64; fill from the end, without an allocation.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var i = 20
            repeat {
                i -= 1
                digits[i] = UInt8(48 + magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }

    public static func appendValue(_ value: PointValue?, to out: inout [UInt8]) {
        switch value {
        case nil: out.append(contentsOf: "null".utf8)
        case .int(let v): appendInteger(v, to: &out)
        case .uint(let v): appendInteger(v, to: &out)
        case .float(let v): out.append(contentsOf: (v.isFinite ? v.description : "null").utf8)
        case .double(let v): out.append(contentsOf: (v.isFinite ? v.description : "null").utf8)
        case .bool(let v): out.append(contentsOf: (v ? "true" : "false").utf8)
        case .string(let s): appendString(s, to: &out)
        }
    }

    /// The raw registers as a JSON string: "41bb 0000", "1", or "".
    static func appendHex(_ raw: RawRegisters, to out: inout [UInt8]) {
        out.append(0x22)
        if let bit = raw.bit {
            out.append(bit ? 0x31 : 0x30)
        } else {
            var first = true
            raw.forEachWord { word in
                if !first { out.append(0x20) }
                first = false
                for shift in stride(from: 12, through: 0, by: -4) {
                    let digit = UInt8((word >> UInt16(shift)) & 0xF)
                    out.append(digit < 10 ? 0x30 + digit : 0x57 + digit)
                }
            }
        }
        out.append(0x22)
    }

    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        let plain: Bool = s.withUTF8 { bytes in
            // Ids, units and hex need no escaping: copy them whole.
            guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain { out.append(0x22); return }
        for byte in s.utf8 {
            switch byte {
            case 0x22: literal(#"\""#, to: &out)
            case 0x5C: literal(#"\\"#, to: &out)
            case 0x0A: literal(#"\n"#, to: &out)
            case 0x0D: literal(#"\r"#, to: &out)
            case 0x09: literal(#"\t"#, to: &out)
            case ..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                literal(#"\u00"#, to: &out)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }
}

/// The JSON Lines form of records: one object per line, keys in a fixed order.
/// Written by hand because it is on the hot path of every poll.
public enum RecordJSON {
    public static func line(_ record: Record, seq: UInt64) -> String {
        var out = "{\"seq\":"
        out.reserveCapacity(192)
        out += String(seq)
        switch record {
        case .reading(let r):
            appendTime(r.timestamp, to: &out)
            out += ",\"device\":"; appendString(r.device, to: &out)
            out += ",\"point\":"; appendString(r.point, to: &out)
            out += ",\"value\":"; appendValue(r.value, to: &out)
            out += ",\"raw\":"; appendString(r.raw, to: &out)
            if let unit = r.unit { out += ",\"unit\":"; appendString(unit, to: &out) }
            if let label = r.label { out += ",\"label\":"; appendString(label, to: &out) }
            out += ",\"quality\":\""; out += r.quality.rawValue; out += "\""
            if let error = r.error { out += ",\"error\":"; appendString(error, to: &out) }
        case .event(let e):
            appendTime(e.timestamp, to: &out)
            out += ",\"event\":\""; out += e.kind.rawValue; out += "\""
            if let device = e.device { out += ",\"device\":"; appendString(device, to: &out) }
            if let bus = e.bus { out += ",\"bus\":"; appendString(bus, to: &out) }
            if let detail = e.detail { out += ",\"detail\":"; appendString(detail, to: &out) }
        }
        out += "}"
        return out
    }

    private static func appendTime(_ t: WallTime, to out: inout String) {
        out += ",\"ts\":\""; out += t.iso8601; out += "\",\"clock_synced\":"; out += t.clockSynced ? "true" : "false"
    }

    public static func appendValue(_ value: PointValue?, to out: inout String) {
        switch value {
        case nil: out += "null"
        case .int(let v): out += String(v)
        case .uint(let v): out += String(v)
        case .float(let v): out += v.isFinite ? v.description : "null"
        case .double(let v): out += v.isFinite ? v.description : "null"
        case .bool(let v): out += v ? "true" : "false"
        case .string(let s): appendString(s, to: &out)
        }
    }

    public static func appendString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u00"
                    out += scalar.value < 0x10 ? "0" : "1"
                    out += String(scalar.value & 0xF, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// `format: "influx"`: InfluxDB line protocol
/// (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/),
/// which InfluxDB 1.x/2.x/3, VictoriaMetrics and TDengine's taosAdapter take.
///
/// - One line per device poll: `vigil,gateway=gw-07,device=gas-1,profile=honeywell-xnx gas=2.45,unit_code=5i <ms>`;
///   integers `i`, floats, booleans, strings quoted; a bad reading (or a
///   non-finite value, which the protocol cannot carry) leaves its field out
///   and is counted in `bad_points`; a stale one keeps its value and is counted in `stale_points`.
/// - Events: `vigil_events,gateway=…,device=…,event=alarm_raised,point=gas,level=high value=26,setpoint=25,seq=812i,… <ms>`.
/// - Heartbeats: `vigil_gateway,gateway=… uptime_s=…i,queue_events=…i,… <ms>`.
/// - Timestamps are the poll's milliseconds (the URL gets `precision=ms`): a batch
///   resent after a crash writes the same points at the same times, which overwrites.
public struct InfluxLineFormat: BodyFormat {
    public let gateway: String
    public let measurement: String
    /// Device id → profile, for the `profile` tag.
    public let profiles: [String: String]

    public init(gateway: String, measurement: String = "vigil", profiles: [String: String] = [:]) {
        self.gateway = gateway; self.measurement = measurement; self.profiles = profiles
    }

    public var contentType: String { "text/plain; charset=utf-8" }
    /// InfluxDB 2/3 and 1.8+ take `Token`; 1.x with auth takes `Token user:password`.
    public var authorizationScheme: String { "Token" }

    /// The write URL with `precision=ms` (added when the installer's URL has no precision).
    public static func writeURL(_ url: String) -> String {
        if url.contains("precision=") { return url }
        return url + (url.contains("?") ? "&" : "?") + "precision=ms"
    }

    public func body(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(batch.records.count * 24 + 128)
        var poll: [Reading] = []
        func flush() {
            if !poll.isEmpty { appendPoll(poll, to: &out) }
            poll.removeAll(keepingCapacity: true)
        }
        for stored in batch.records {
            switch stored.record {
            case .reading(let r):
                if let first = poll.first, first.device != r.device || first.timestamp.milliseconds != r.timestamp.milliseconds { flush() }
                poll.append(r)
            case .event(let e):
                flush()
                appendEvent(e, seq: stored.seq, to: &out)
            }
        }
        flush()
        return out
    }

    public func heartbeat(_ s: GatewayStatus, gateway: String, sentAt: WallTime) -> [UInt8]? {
        var out: [UInt8] = []
        Self.appendName("\(measurement)_gateway", to: &out)
        appendTag("gateway", gateway, to: &out)
        out.append(0x20)
        let fields: [(String, Int64)] = [("uptime_s", s.uptimeSeconds), ("queue_events", Int64(s.pending[.events] ?? 0)),
                                         ("queue_telemetry", Int64(s.pending[.telemetry] ?? 0)), ("dropped_events", Int64(s.dropped[.events] ?? 0)),
                                         ("dropped_telemetry", Int64(s.dropped[.telemetry] ?? 0)), ("corrupt_records", Int64(s.corruptRecords)),
                                         ("dead_letters", Int64(s.deadLetters)), ("active_alarms", Int64(s.alarms.count))]
        for (i, (key, value)) in fields.enumerated() {
            if i > 0 { out.append(0x2C) }
            Self.appendKey(key, to: &out); out.append(0x3D); RecordJSON.appendInteger(value, to: &out); out.append(0x69)
        }
        out.append(0x20); RecordJSON.appendInteger(sentAt.milliseconds, to: &out); out.append(0x0A)
        return out
    }

    private func appendPoll(_ poll: [Reading], to out: inout [UInt8]) {
        let first = poll[0]
        Self.appendName(measurement, to: &out)
        appendTag("gateway", gateway, to: &out)
        appendTag("device", first.device, to: &out)
        if let profile = profiles[first.device] { appendTag("profile", profile, to: &out) }
        out.append(0x20)
        var fields = 0, bad = 0, stale = 0
        for r in poll {
            guard r.quality != .bad, let value = r.value, Self.isWritable(value) else { bad += 1; continue }
            if r.quality == .stale { stale += 1 }
            if fields > 0 { out.append(0x2C) }
            fields += 1
            Self.appendKey(r.point, to: &out); out.append(0x3D); Self.appendValue(value, to: &out)
        }
        for (key, count) in [("bad_points", bad), ("stale_points", stale)] where count > 0 || (key == "bad_points" && fields == 0) {
            if fields > 0 { out.append(0x2C) }
            fields += 1
            Self.appendKey(key, to: &out); out.append(0x3D); RecordJSON.appendInteger(count, to: &out); out.append(0x69)
        }
        out.append(0x20); RecordJSON.appendInteger(first.timestamp.milliseconds, to: &out); out.append(0x0A)
    }

    private func appendEvent(_ e: Event, seq: UInt64, to out: inout [UInt8]) {
        Self.appendName("\(measurement)_events", to: &out)
        appendTag("gateway", gateway, to: &out)
        if let device = e.device { appendTag("device", device, to: &out) }
        appendTag("event", e.kind.rawValue, to: &out)
        // Point and level are tags: two alarms of one poll (high and highhigh) are two points, not one overwriting the other.
        if let a = e.alarm { appendTag("point", a.point, to: &out); appendTag("level", a.level.rawValue, to: &out) }
        out.append(0x20)
        var fields: [(String, PointValue)] = [("seq", .uint(seq))]
        if let bus = e.bus { fields.append(("bus", .string(bus))) }
        if let detail = e.detail { fields.append(("detail", .string(detail))) }
        if let a = e.alarm {
            if let value = a.value, value.isFinite { fields.append(("value", .double(value))) }
            fields.append(("setpoint", .double(a.setpoint)))
            if let severity = a.severity { fields.append(("severity", .string(severity))) }
        }
        if !e.timestamp.clockSynced { fields.append(("clock_synced", .bool(false))) }
        for (i, (key, value)) in fields.enumerated() {
            if i > 0 { out.append(0x2C) }
            Self.appendKey(key, to: &out); out.append(0x3D); Self.appendValue(value, to: &out)
        }
        out.append(0x20); RecordJSON.appendInteger(e.timestamp.milliseconds, to: &out); out.append(0x0A)
    }

    private func appendTag(_ key: String, _ value: String, to out: inout [UInt8]) {
        out.append(0x2C); Self.appendKey(key, to: &out); out.append(0x3D); Self.appendKey(value, to: &out)
    }

    static func isWritable(_ value: PointValue) -> Bool {
        switch value {
        case .float(let f): f.isFinite
        case .double(let d): d.isFinite
        case .uint(let u): u <= UInt64(Int64.max)
        default: true
        }
    }

    /// A field value: floats as they are, integers with `i`, booleans, strings quoted with `"` and `\` escaped.
    static func appendValue(_ value: PointValue, to out: inout [UInt8]) {
        switch value {
        case .int(let i): RecordJSON.appendInteger(i, to: &out); out.append(0x69)
        case .uint(let u): RecordJSON.appendInteger(u, to: &out); out.append(0x69)
        case .float(let f): out.append(contentsOf: f.description.utf8)
        case .double(let d): out.append(contentsOf: d.description.utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .string(let s):
            out.append(0x22)
            for byte in s.utf8 {
                if byte == 0x22 || byte == 0x5C { out.append(0x5C) }
                if byte == 0x0A { out.append(0x5C); out.append(0x6E); continue }
                out.append(byte)
            }
            out.append(0x22)
        }
    }

    /// Measurement names escape commas and spaces.
    static func appendName(_ name: String, to out: inout [UInt8]) {
        for byte in name.utf8 {
            if byte == 0x2C || byte == 0x20 { out.append(0x5C) }
            out.append(byte)
        }
    }

    /// Tag keys, tag values and field keys escape commas, equals signs and spaces.
    static func appendKey(_ key: String, to out: inout [UInt8]) {
        for byte in key.utf8 {
            if byte == 0x2C || byte == 0x3D || byte == 0x20 { out.append(0x5C) }
            if byte == 0x0A { continue } // a newline would end the line
            out.append(byte)
        }
    }
}

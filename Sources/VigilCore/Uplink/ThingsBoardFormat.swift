/// `format: "thingsboard"`: ThingsBoard's gateway MQTT API
/// (https://thingsboard.io/docs/reference/gateway-api/), the topics and
/// shapes thingsboard-gateway publishes. The gateway is one ThingsBoard
/// device (its access token is the MQTT user name); each polled device is a
/// device behind it, named by its id.
///
/// - Readings: `v1/gateway/telemetry` `{"gas-1":[{"ts":…,"values":{"gas":2.45,…}}]}`,
///   one entry per poll. A reading that is not good leaves its value out
///   (bad) or keeps it (stale) and adds `<point>_quality` (and `<point>_error`);
///   a poll taken before the clock was synchronised adds `clock_synced: false`.
///   ThingsBoard keys telemetry by (device, key, ts), so a batch resent after a
///   crash overwrites what it wrote, never doubles it.
/// - Events: device online/offline as `v1/gateway/connect` / `disconnect`
///   and as an `event` key; alarms as `alarm_<point>_<level>` true/false and
///   `alarm_<point>_<level>_acked` keys, which an alarm rule can create and clear on;
///   gateway events (no device) as the gateway's own telemetry.
/// - On every connect: `connect` and attributes (profile, bus, Modbus unit, point units) for each device.
/// - Presence: the gateway's status as its own telemetry on every heartbeat;
///   no Will (ThingsBoard marks a device inactive on its own).
/// - RPC on `v1/gateway/rpc`: see `command(topic:payload:)`.
public struct ThingsBoardFormat: MessageFormat {
    public struct Device: Sendable, Equatable {
        public var id: String
        /// The ThingsBoard device profile (`type` of connect): the Vigil profile, or "default".
        public var type: String
        /// Static facts, sent as client attributes on every connect.
        public var attributes: [(key: String, value: String)]

        public init(id: String, type: String, attributes: [(key: String, value: String)]) {
            self.id = id; self.type = type; self.attributes = attributes
        }

        public static func == (a: Device, b: Device) -> Bool {
            a.id == b.id && a.type == b.type && a.attributes.map(\.key) == b.attributes.map(\.key) && a.attributes.map(\.value) == b.attributes.map(\.value)
        }
    }

    public static let telemetryTopic = "v1/gateway/telemetry"
    public static let attributesTopic = "v1/gateway/attributes"
    public static let connectTopic = "v1/gateway/connect"
    public static let disconnectTopic = "v1/gateway/disconnect"
    public static let rpcTopic = "v1/gateway/rpc"
    public static let gatewayTelemetryTopic = "v1/devices/me/telemetry"

    public let devices: [Device]

    public init(devices: [Device]) { self.devices = devices }

    // MARK: Batches

    public func messages(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UplinkMessage] {
        var out: [UplinkMessage] = []
        var readings: [Reading] = []
        for stored in batch.records {
            switch stored.record {
            case .reading(let r): readings.append(r)
            case .event(let e):
                // Order within a lane is kept: readings before this event go first.
                if !readings.isEmpty { out.append(telemetry(readings)); readings.removeAll() }
                out += messages(for: e, seq: stored.seq)
            }
        }
        if !readings.isEmpty { out.append(telemetry(readings)) }
        return out
    }

    /// One telemetry message: devices in order of appearance, one entry per poll (same device, same time).
    func telemetry(_ readings: [Reading]) -> UplinkMessage {
        var order: [String] = []
        var byDevice: [String: [Reading]] = [:]
        for r in readings {
            if byDevice[r.device] == nil { order.append(r.device) }
            byDevice[r.device, default: []].append(r)
        }
        var out: [UInt8] = []
        out.reserveCapacity(readings.count * 24 + 64)
        out.append(0x7B)
        for (i, device) in order.enumerated() {
            if i > 0 { out.append(0x2C) }
            RecordJSON.appendString(device, to: &out)
            RecordJSON.literal(":[", to: &out)
            let polls = byDevice[device]!
            var start = 0
            while start < polls.count {
                var end = start + 1
                while end < polls.count && polls[end].timestamp == polls[start].timestamp { end += 1 }
                if start > 0 { out.append(0x2C) }
                appendEntry(polls[start..<end], to: &out)
                start = end
            }
            out.append(0x5D)
        }
        out.append(0x7D)
        return UplinkMessage(topic: Self.telemetryTopic, payload: out)
    }

    private func appendEntry(_ poll: ArraySlice<Reading>, to out: inout [UInt8]) {
        let time = poll.first!.timestamp
        RecordJSON.literal(#"{"ts":"#, to: &out); RecordJSON.appendInteger(time.milliseconds, to: &out)
        RecordJSON.literal(#","values":{"#, to: &out)
        var first = true
        func key(_ name: String, _ suffix: StaticString? = nil) {
            if !first { out.append(0x2C) }
            first = false
            out.append(0x22)
            out.append(contentsOf: name.utf8) // point ids are [A-Za-z0-9._-]: no escaping
            if let suffix { suffix.withUTF8Buffer { out.append(contentsOf: $0) } }
            RecordJSON.literal("\":", to: &out)
        }
        for r in poll {
            if r.quality != .bad { key(r.point); RecordJSON.appendValue(r.value, to: &out) }
            if let label = r.label { key(r.point, "_label"); RecordJSON.appendString(label, to: &out) }
            guard r.quality != .good else { continue }
            key(r.point, "_quality"); RecordJSON.appendString(r.quality.rawValue, to: &out)
            if let error = r.error { key(r.point, "_error"); RecordJSON.appendString(error, to: &out) }
        }
        if let mode = poll.first!.mode { key("mode"); RecordJSON.appendString(mode, to: &out) }
        if !time.clockSynced { key("clock_synced"); RecordJSON.literal("false", to: &out) }
        RecordJSON.literal("}}", to: &out)
    }

    /// An event as ThingsBoard sees it: connect/disconnect for a device's
    /// state, and telemetry keys a rule chain can match.
    func messages(for event: Event, seq: UInt64) -> [UplinkMessage] {
        var values: [(String, PointValue)] = [("event", .string(event.kind.rawValue)), ("event_seq", .uint(seq))]
        if let bus = event.bus { values.append(("bus", .string(bus))) }
        if let detail = event.detail { values.append(("detail", .string(detail))) }
        if let a = event.alarm {
            let key = "alarm_\(a.point)_\(a.level.rawValue)"
            switch event.kind {
            case .alarmRaised: values += [(key, .bool(true)), (key + "_acked", .bool(false))]
            case .alarmCleared: values.append((key, .bool(false)))
            case .alarmAcked: values.append((key + "_acked", .bool(true)))
            default: break
            }
            values += [("alarm_point", .string(a.point)), ("alarm_level", .string(a.level.rawValue))]
            if let severity = a.severity { values.append(("alarm_severity", .string(severity))) }
            if let value = a.value { values.append(("alarm_value", .double(value))) }
            values.append(("alarm_setpoint", .double(a.setpoint)))
        }
        guard let device = event.device else {
            return [UplinkMessage(topic: Self.gatewayTelemetryTopic, payload: Self.entry(ts: event.timestamp, values))]
        }
        var out: [UplinkMessage] = []
        if event.kind == .deviceOnline { out.append(connect(device)) }
        var payload: [UInt8] = [0x7B]
        RecordJSON.appendString(device, to: &payload)
        payload.append(0x3A); payload.append(0x5B)
        payload += Self.entry(ts: event.timestamp, values)
        payload.append(0x5D); payload.append(0x7D)
        out.append(UplinkMessage(topic: Self.telemetryTopic, payload: payload))
        if event.kind == .deviceOffline { out.append(Self.object(Self.disconnectTopic, [("device", .string(device))])) }
        return out
    }

    /// `{"ts":…,"values":{…}}`
    static func entry(ts: WallTime, _ values: [(String, PointValue)]) -> [UInt8] {
        var out: [UInt8] = []
        RecordJSON.literal(#"{"ts":"#, to: &out); RecordJSON.appendInteger(ts.milliseconds, to: &out)
        RecordJSON.literal(#","values":"#, to: &out)
        appendObject(values + (ts.clockSynced ? [] : [("clock_synced", .bool(false))]), to: &out)
        out.append(0x7D)
        return out
    }

    static func appendObject(_ members: [(String, PointValue)], to out: inout [UInt8]) {
        out.append(0x7B)
        for (i, (key, value)) in members.enumerated() {
            if i > 0 { out.append(0x2C) }
            RecordJSON.appendString(key, to: &out); out.append(0x3A); RecordJSON.appendValue(value, to: &out)
        }
        out.append(0x7D)
    }

    static func object(_ topic: String, _ members: [(String, PointValue)]) -> UplinkMessage {
        var out: [UInt8] = []
        appendObject(members, to: &out)
        return UplinkMessage(topic: topic, payload: out)
    }

    func connect(_ device: String) -> UplinkMessage {
        let type = devices.first { $0.id == device }?.type ?? "default"
        return Self.object(Self.connectTopic, [("device", .string(device)), ("type", .string(type))])
    }

    // MARK: Connection

    /// The gateway's status as its own telemetry (the heartbeat); nothing as a Will.
    public func presence(online: Bool, status: GatewayStatus?, sentAt: WallTime) -> UplinkMessage? {
        guard online else { return nil }
        var values: [(String, PointValue)] = [("online", .bool(true))]
        if let s = status {
            values += [("uptime_s", .int(s.uptimeSeconds)),
                       ("queue_events", .uint(s.pending[.events] ?? 0)), ("queue_telemetry", .uint(s.pending[.telemetry] ?? 0)),
                       ("dropped_events", .uint(s.dropped[.events] ?? 0)), ("dropped_telemetry", .uint(s.dropped[.telemetry] ?? 0)),
                       ("corrupt_records", .uint(s.corruptRecords)), ("dead_letters", .int(Int64(s.deadLetters))),
                       ("devices_online", .int(Int64(s.devices.filter { $0.state == "online" }.count))),
                       ("devices_total", .int(Int64(s.devices.count))),
                       // A rule chain alarms on active_alarms > 0 even while the disk holds the events back (GatewayStatus.alarms).
                       ("active_alarms", .int(Int64(s.alarms.count))),
                       ("alarms", .string(s.alarms.map { "\($0.device)/\($0.point)/\($0.level.rawValue)" }.joined(separator: ","))),
                       ("journal_error", .string(s.journalError ?? ""))]
        }
        return UplinkMessage(topic: Self.gatewayTelemetryTopic, payload: Self.entry(ts: sentAt, values))
    }

    /// On every connect: each device that is not known to be offline is
    /// connected, and every device's static facts are sent as attributes.
    public func announcements(status: GatewayStatus?) -> [UplinkMessage] {
        let offline = Set(status?.devices.filter { $0.state == "offline" }.map(\.id) ?? [])
        var out = devices.filter { !offline.contains($0.id) }.map { connect($0.id) }
        var payload: [UInt8] = [0x7B]
        for (i, device) in devices.enumerated() {
            if i > 0 { payload.append(0x2C) }
            RecordJSON.appendString(device.id, to: &payload); payload.append(0x3A)
            Self.appendObject(device.attributes.map { ($0.key, .string($0.value)) }, to: &payload)
        }
        payload.append(0x7D)
        if !devices.isEmpty { out.append(UplinkMessage(topic: Self.attributesTopic, payload: payload)) }
        return out
    }

    // MARK: RPC

    public var commandTopics: [String] { [Self.rpcTopic] }

    /// Telemetry has no room for the status: it goes as the gateway's telemetry every heartbeat_s.
    public var batchesCarryStatus: Bool { false }

    public func commands(topic: String, payload: [UInt8]) -> [RemoteCommand] {
        command(topic: topic, payload: payload).map { [$0] } ?? []
    }

    /// `{"device":"gas-1","data":{"id":1,"method":"read","params":{…}}}`.
    /// Our own replies come back on the same topic (they have no `data.method`): nil.
    func command(topic: String, payload: [UInt8]) -> RemoteCommand? {
        guard topic == Self.rpcTopic, let root = try? JSON5Reader.parse(String(decoding: payload, as: UTF8.self)) else { return nil }
        guard case .string(let device)? = root["device"]?.value, let data = root["data"],
              case .string(let method)? = data["method"]?.value, let id = data["id"] else { return nil }
        let idJSON: String
        switch id.value {
        case .number(let v): idJSON = format(v)
        case .string(let s): var bytes: [UInt8] = []; RecordJSON.appendString(s, to: &bytes); idJSON = String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
        return RemoteCommand(device: device, idJSON: idJSON, method: method, action: RemoteCommand.action(method: method, params: data["params"]))
    }

    /// `{"device":"gas-1","id":1,"data":{"success":true,…}}` or `{…,"data":{"success":false,"error":"…"}}`.
    public func reply(to command: RemoteCommand, _ result: RemoteCommandResult) -> UplinkMessage? {
        var out: [UInt8] = []
        RecordJSON.literal(#"{"device":"#, to: &out); RecordJSON.appendString(command.device, to: &out)
        RecordJSON.literal(#","id":"#, to: &out); out.append(contentsOf: command.idJSON.utf8)
        switch result {
        case .success(let members):
            RecordJSON.literal(#","data":{"success":true"#, to: &out)
            if !members.isEmpty { out.append(0x2C); out.append(contentsOf: members.utf8) }
        case .failure(let reason):
            RecordJSON.literal(#","data":{"success":false,"error":"#, to: &out); RecordJSON.appendString(reason, to: &out)
        }
        RecordJSON.literal("}}", to: &out)
        return UplinkMessage(topic: Self.rpcTopic, payload: out)
    }
}

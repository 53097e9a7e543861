import Synchronization

/// `format: "sparkplug-b"`: Sparkplug B 3.0 (Eclipse Sparkplug Specification
/// 3.0.0, https://sparkplug.eclipse.org/specification/version/3.0/) for a SCADA
/// host. The gateway is the edge node `spBv1.0/{group}/…/{edge_node}`, each
/// polled device a Sparkplug device under it.
///
/// - Every connection: bdSeq + 1 (kept across restarts by the caller's
///   store), NDEATH with it as the Will, then NBIRTH (seq 0) and a DBIRTH per
///   device not known to be offline. seq counts 0–255 and wraps, for every
///   message after NBIRTH but NDEATH.
/// - Readings as DDATA, one metric per reading, its poll's timestamp; readings
///   older than `historicalAfterMs` at sending (a backlog) are `is_historical`.
///   A bad reading is `is_null` with property `Quality` 0, a stale one keeps its
///   value with `Quality` 500 (the spec's quality codes; good is 192, implied).
/// - Device online/offline as DBIRTH/DDEATH; alarms as the device's
///   `Alarm/…` metrics; gateway events as NDATA `Vigil/Event`.
/// - Data at QoS 0 as the spec says, and then one NDATA `Vigil/Journal Seq`
///   at QoS 1 per batch: its PUBACK, which the broker sends only after reading
///   everything before it on the connection, is the batch's commit point
///   (docs/sparkplug.md says what QoS 0 can still lose). `qos: 1`: all at QoS 1.
/// - With a primary host: batches wait while its STATE is not online.
///
/// Unlike the other formats this one holds session state (bdSeq, seq, the
/// primary host's state), as the protocol does; the encoding itself is pure.
public final class SparkplugFormat: MessageFormat, Sendable {
    public struct Device: Sendable, Equatable {
        public var id: String
        public var points: [PointSpec]
        public init(id: String, points: [PointSpec]) { self.id = id; self.points = points }
    }

    public static let namespace = "spBv1.0"
    public let group: String
    public let edgeNode: String
    public let primaryHost: String?
    public let devices: [Device]
    /// 0 (the spec) or 1 for births and data.
    public let dataQoS: Int32
    public let historicalAfterMs: Int64
    /// Each device's points' datatypes, by device and point id: looked up for every reading.
    private let datatypes: [String: [String: SparkplugDataType]]

    struct Session {
        var bdSeq: UInt64
        var seq: UInt64 = 0
        /// The primary host's last STATE; nil: none heard yet.
        var hostOnline: Bool?
    }
    private let session: Mutex<Session>
    private let saveBdSeq: @Sendable (UInt64) -> Void

    /// `lastBdSeq`: the bdSeq of the last connection (a store keeps it across
    /// restarts, so a host never takes a new NBIRTH for an old NDEATH); `saveBdSeq` stores each new one.
    public init(group: String, edgeNode: String, primaryHost: String?, devices: [Device], dataQoS: Int32 = 0,
                historicalAfterMs: Int64 = 10_000, lastBdSeq: UInt64? = nil, saveBdSeq: @escaping @Sendable (UInt64) -> Void = { _ in }) {
        self.group = group; self.edgeNode = edgeNode; self.primaryHost = primaryHost; self.devices = devices
        self.dataQoS = dataQoS; self.historicalAfterMs = historicalAfterMs; self.saveBdSeq = saveBdSeq
        datatypes = Dictionary(devices.map { d in
            (d.id, Dictionary(d.points.map { ($0.id, SparkplugDataType(point: $0)) }, uniquingKeysWith: { first, _ in first }))
        }, uniquingKeysWith: { first, _ in first })
        // The first nextConnection() makes it lastBdSeq + 1, or 0.
        session = Mutex(Session(bdSeq: lastBdSeq ?? 255))
    }

    func topic(_ type: String, device: String? = nil) -> String {
        "\(Self.namespace)/\(group)/\(type)/\(edgeNode)" + (device.map { "/\($0)" } ?? "")
    }

    var bdSeq: UInt64 { session.withLock { $0.bdSeq } }

    private func nextSeq() -> UInt64 {
        session.withLock { s in defer { s.seq = (s.seq + 1) % 256 }; return s.seq }
    }

    private func message(_ type: String, device: String? = nil, timestamp: Int64, metrics: [SparkplugMetric], qos: Int32? = nil) -> UplinkMessage {
        let payload = SparkplugPayload(timestamp: timestamp, seq: nextSeq(), metrics: metrics)
        return UplinkMessage(topic: topic(type, device: device), payload: payload.encode(), qos: qos ?? dataQoS)
    }

    // MARK: Connection

    public func nextConnection() {
        let next = session.withLock { s -> UInt64 in
            s.bdSeq = (s.bdSeq + 1) % 256
            s.seq = 0
            return s.bdSeq
        }
        saveBdSeq(next)
    }

    /// Offline: NDEATH with this connection's bdSeq (the Will, and said on an orderly stop).
    /// Online: the gateway's status as NDATA (the heartbeat; never before the NBIRTH).
    public func presence(online: Bool, status: GatewayStatus?, sentAt: WallTime) -> UplinkMessage? {
        guard online else {
            let payload = SparkplugPayload(timestamp: sentAt.milliseconds, seq: nil,
                                           metrics: [SparkplugMetric(name: "bdSeq", datatype: .int64, value: .int(Int64(bdSeq)))])
            return UplinkMessage(topic: topic("NDEATH"), payload: payload.encode(), qos: 1)
        }
        guard let status else { return nil }
        return message("NDATA", timestamp: sentAt.milliseconds, metrics: Self.statusMetrics(status, at: sentAt.milliseconds))
    }

    static let statusNames = ["Vigil/Uptime", "Vigil/Queue Events", "Vigil/Queue Telemetry", "Vigil/Dropped Telemetry", "Vigil/Dead Letters",
                              "Vigil/Active Alarms"]

    static func statusMetrics(_ s: GatewayStatus?, at ms: Int64) -> [SparkplugMetric] {
        let values: [UInt64]? = s.map { [UInt64(max(0, $0.uptimeSeconds)), $0.pending[.events] ?? 0, $0.pending[.telemetry] ?? 0,
                                         $0.dropped[.telemetry] ?? 0, UInt64($0.deadLetters), UInt64($0.alarms.count)] }
        return statusNames.enumerated().map { i, name in
            SparkplugMetric(name: name, datatype: .uint64, value: values.map { .uint($0[i]) }, timestamp: ms)
        }
    }

    /// NBIRTH (seq 0), then a DBIRTH for each device not known to be offline.
    public func announcements(status: GatewayStatus?) -> [UplinkMessage] {
        session.withLock { $0.seq = 0 }
        let now = WallTime.now(kernelSynchronised: true).milliseconds
        var node = [SparkplugMetric(name: "bdSeq", datatype: .int64, value: .int(Int64(bdSeq)), timestamp: now),
                    SparkplugMetric(name: "Node Control/Rebirth", datatype: .boolean, value: .bool(false), timestamp: now),
                    SparkplugMetric(name: "Vigil/Journal Seq", datatype: .uint64, value: nil, timestamp: now),
                    SparkplugMetric(name: "Vigil/Event", datatype: .string, value: nil, timestamp: now)]
        node += Self.statusMetrics(status, at: now)
        let offline = Set(status?.devices.filter { $0.state == "offline" }.map(\.id) ?? [])
        return [message("NBIRTH", timestamp: now, metrics: node)]
            + devices.filter { !offline.contains($0.id) }.map { birth($0, at: now) }
    }

    static let alarmMetrics: [(String, SparkplugDataType)] = [("Alarm/State", .string), ("Alarm/Point", .string), ("Alarm/Level", .string),
                                                              ("Alarm/Severity", .string), ("Alarm/Value", .double), ("Alarm/Setpoint", .double),
                                                              ("Alarm/Seq", .uint64), ("Event", .string)]

    /// Every metric the device will report, without values until its first poll (is_null).
    func birth(_ device: Device, at ms: Int64) -> UplinkMessage {
        let points = device.points.map { p in
            SparkplugMetric(name: p.id, datatype: SparkplugDataType(point: p), value: nil, timestamp: ms,
                            properties: p.unit.map { [("engUnit", .string($0))] } ?? [])
        }
        let alarms = Self.alarmMetrics.map { SparkplugMetric(name: $0.0, datatype: $0.1, value: nil, timestamp: ms) }
        return message("DBIRTH", device: device.id, timestamp: ms, metrics: points + alarms)
    }

    // MARK: Batches

    /// Readings: one DDATA per device (its readings in order; each metric carries its own poll time, so
    /// devices need no order between them). Events one by one, in order, after the readings before them.
    public func messages(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UplinkMessage] {
        var out: [UplinkMessage] = []
        var order: [String] = []
        var byDevice: [String: [SparkplugMetric]] = [:]
        func flush() {
            for device in order {
                out.append(message("DDATA", device: device, timestamp: sentAt.milliseconds, metrics: byDevice[device]!))
            }
            order.removeAll()
            byDevice.removeAll()
        }
        for stored in batch.records {
            switch stored.record {
            case .reading(let r):
                if byDevice[r.device] == nil { order.append(r.device) }
                byDevice[r.device, default: []].append(metric(r, sentAt: sentAt))
            case .event(let e):
                flush()
                out += messages(for: e, seq: stored.seq)
            }
        }
        flush()
        if dataQoS == 0 {
            // The commit point: a QoS 1 message after the QoS 0 ones.
            out.append(message("NDATA", timestamp: sentAt.milliseconds,
                               metrics: [SparkplugMetric(name: "Vigil/Journal Seq", datatype: .uint64, value: .uint(batch.lastSeq), timestamp: sentAt.milliseconds)],
                               qos: 1))
        }
        return out
    }

    func metric(_ r: Reading, sentAt: WallTime) -> SparkplugMetric {
        let datatype = datatypes[r.device]?[r.point] ?? Self.datatype(of: r.value)
        var m = SparkplugMetric(name: r.point, datatype: datatype, value: r.quality == .bad ? nil : SparkplugValue(r.value),
                                timestamp: r.timestamp.milliseconds, isHistorical: sentAt.milliseconds - r.timestamp.milliseconds > historicalAfterMs)
        switch r.quality {
        case .good: break
        case .bad: m.properties = [("Quality", .int(0))]
        case .stale: m.properties = [("Quality", .int(500))]
        }
        return m
    }

    static func datatype(of value: PointValue?) -> SparkplugDataType {
        switch value {
        case .int?: .int64
        case .uint?: .uint64
        case .float?: .float
        case .bool?: .boolean
        case .string?: .string
        case .double?, nil: .double
        }
    }

    func messages(for e: Event, seq: UInt64) -> [UplinkMessage] {
        let ms = e.timestamp.milliseconds
        guard let deviceID = e.device else {
            let text = [e.kind.rawValue, e.bus, e.detail].compactMap { $0 }.joined(separator: ": ")
            return [message("NDATA", timestamp: ms, metrics: [SparkplugMetric(name: "Vigil/Event", datatype: .string, value: .string(text), timestamp: ms)])]
        }
        switch e.kind {
        case .deviceOnline:
            let device = devices.first { $0.id == deviceID } ?? Device(id: deviceID, points: [])
            return [birth(device, at: ms)]
        case .deviceOffline:
            return [message("DDEATH", device: deviceID, timestamp: ms, metrics: [])]
        default:
            var metrics = [SparkplugMetric(name: "Event", datatype: .string, value: .string(e.kind.rawValue), timestamp: ms)]
            if let a = e.alarm {
                let state = switch e.kind { case .alarmRaised: "raised"; case .alarmCleared: "cleared"; case .alarmAcked: "acknowledged"; default: e.kind.rawValue }
                metrics += [SparkplugMetric(name: "Alarm/State", datatype: .string, value: .string(state), timestamp: ms),
                            SparkplugMetric(name: "Alarm/Point", datatype: .string, value: .string(a.point), timestamp: ms),
                            SparkplugMetric(name: "Alarm/Level", datatype: .string, value: .string(a.level.rawValue), timestamp: ms),
                            SparkplugMetric(name: "Alarm/Severity", datatype: .string, value: a.severity.map { .string($0) }, timestamp: ms),
                            SparkplugMetric(name: "Alarm/Value", datatype: .double, value: a.value.map { .double($0) }, timestamp: ms),
                            SparkplugMetric(name: "Alarm/Setpoint", datatype: .double, value: .double(a.setpoint), timestamp: ms),
                            SparkplugMetric(name: "Alarm/Seq", datatype: .uint64, value: .uint(seq), timestamp: ms)]
            }
            return [message("DDATA", device: deviceID, timestamp: ms, metrics: metrics)]
        }
    }

    // MARK: Commands and the primary host

    public var commandTopics: [String] {
        [topic("NCMD"), topic("DCMD", device: "+")] + (primaryHost.map { ["\(Self.namespace)/STATE/\($0)"] } ?? [])
    }

    public var batchesCarryStatus: Bool { false }

    public var holdReason: String? {
        guard let host = primaryHost, session.withLock({ $0.hostOnline }) != true else { return nil }
        return "primary host \(host) is not online (no STATE online on \(Self.namespace)/STATE/\(host)); Sparkplug data waits for it"
    }

    /// STATE updates the host's state; NCMD `Node Control/Rebirth` asks for the births again;
    /// DCMD writes a point that is one holding register or coil (allowed or not by the agent).
    public func commands(topic: String, payload: [UInt8]) -> [RemoteCommand] {
        if let host = primaryHost, topic == "\(Self.namespace)/STATE/\(host)" {
            // Sparkplug 3.0: {"online":true,"timestamp":…}, retained.
            let online = (try? JSON5Reader.parse(String(decoding: payload, as: UTF8.self)))?["online"].flatMap { n -> Bool? in
                if case .bool(let b) = n.value { b } else { nil }
            }
            session.withLock { $0.hostOnline = online ?? false }
            return []
        }
        guard let decoded = SparkplugPayload.decode(payload) else { return [] }
        if topic == self.topic("NCMD") {
            let rebirth = decoded.metrics.contains { $0.name == "Node Control/Rebirth" && $0.value == .bool(true) }
            return rebirth ? [RemoteCommand(device: edgeNode, idJSON: "null", method: "Node Control/Rebirth", action: .announceAgain)] : []
        }
        let prefix = self.topic("DCMD") + "/"
        guard topic.hasPrefix(prefix) else { return [] }
        let deviceID = String(topic.dropFirst(prefix.count))
        return decoded.metrics.map { m in
            RemoteCommand(device: deviceID, idJSON: "null", method: "DCMD \(m.name)", action: writeAction(device: deviceID, metric: m))
        }
    }

    func writeAction(device: String, metric m: SparkplugMetric) -> RemoteCommand.Action {
        guard let point = devices.first(where: { $0.id == device })?.points.first(where: { $0.id == m.name }) else {
            return .invalid("DCMD: device \(device) has no point \(m.name)")
        }
        let plain = point.scale == 1 && point.offset == 0 && point.decimalsFrom == nil && point.bit == nil
        switch (point.table, point.type, m.value) {
        case (.coil, .bool, .bool(let b)?): return .write(table: .coil, address: point.address, values: [b ? 1 : 0])
        case (.holding, .uint16, let v?) where plain && (0...65_535).contains(v.asDouble ?? -1):
            return .write(table: .holding, address: point.address, values: [UInt16(v.asBits64)])
        case (.holding, .int16, let v?) where plain && (-32_768...32_767).contains(v.asDouble ?? 1e9):
            return .write(table: .holding, address: point.address, values: [UInt16(bitPattern: Int16(truncatingIfNeeded: Int64(bitPattern: v.asBits64)))])
        default:
            return .invalid("DCMD: \(device)/\(m.name) is not one unscaled holding register (int16, uint16) or coil with a value in range; it cannot be written")
        }
    }
}

/// Alibaba Cloud IoT Platform's Alink protocol (docs/alink.md), as its
/// documentation gives the topics ("设备属性上报", "设备事件上报", "物模型历史数据上报",
/// "管理拓扑关系", "子设备上下线"): readings as properties of the gateway device,
/// identifier `<device>_<point>`, or of a sub-device with its own cloud identity
/// (added to the gateway's topology and logged in on every connect), identifier `<point>`;
/// readings from a backlog (older than `historyAfterMs` when sent) through the
/// history topic; alarms and device state changes as events. Every message
/// asks for the platform's reply, which is the commit point (code 200).
public struct AlinkFormat: MessageFormat {
    public let productKey: String
    public let deviceName: String
    /// A device with its own identity on the platform, by Vigil device id.
    public struct SubDevice: Sendable, Equatable {
        public var productKey: String
        public var deviceName: String
        public init(productKey: String, deviceName: String) { self.productKey = productKey; self.deviceName = deviceName }
    }
    public let subDevices: [String: SubDevice]
    /// Signs a sub-device's login content with its DeviceSecret (hex HMAC-SHA256); by Vigil device id.
    private let sign: @Sendable (_ device: String, _ content: String) -> String?
    private let nowMs: @Sendable () -> Int64
    /// Readings older than this when sent go as history (the platform's rules see them as such).
    public let historyAfterMs: Int64
    /// Alink takes at most 200 properties in one history message.
    public static let maxHistoryProperties = 200

    public init(productKey: String, deviceName: String, historyAfterMs: Int64 = 5 * 60_000, subDevices: [String: SubDevice] = [:],
                sign: @escaping @Sendable (_ device: String, _ content: String) -> String? = { _, _ in nil },
                nowMs: @escaping @Sendable () -> Int64 = { WallTime.now(kernelSynchronised: true).milliseconds }) {
        self.productKey = productKey; self.deviceName = deviceName; self.historyAfterMs = historyAfterMs
        self.subDevices = subDevices; self.sign = sign; self.nowMs = nowMs
    }

    private var thing: String { "/sys/\(productKey)/\(deviceName)/thing/event" }
    /// Where a device's messages go: its own thing when it has an identity, else the gateway's.
    private func thing(of device: String?) -> String {
        guard let device, let sub = subDevices[device] else { return thing }
        return "/sys/\(sub.productKey)/\(sub.deviceName)/thing/event"
    }
    private func identifier(_ r: Reading) -> String {
        subDevices[r.device] == nil ? Self.identifier(device: r.device, point: r.point) : Self.identifier(point: r.point)
    }

    public var batchesCarryStatus: Bool { false }
    public func presence(online: Bool, status: GatewayStatus?, sentAt: WallTime) -> UplinkMessage? { nil }
    public var replyTopics: [String] {
        ["\(thing)/+/post_reply", "\(thing)/property/history/post_reply"]
            + subDevices.values.map { "/sys/\($0.productKey)/\($0.deviceName)/thing/event/+/post_reply" }.sorted()
    }

    /// On every connect: the sub-devices joined to the gateway's topology, then logged in
    /// ("添加拓扑关系", "子设备批量上线"), each signed with its own DeviceSecret.
    public func announcements(status: GatewayStatus?) -> [UplinkMessage] {
        let devices = subDevices.keys.sorted()
        let now = nowMs()
        guard let add = signedList(.topologyAdd, devices, at: now), let login = signedList(.login, devices, at: now) else { return [] }
        return [UplinkMessage(topic: "/sys/\(productKey)/\(deviceName)/thing/topo/add", payload: add),
                UplinkMessage(topic: "/ext/session/\(productKey)/\(deviceName)/combine/batch_login", payload: login)]
    }

    /// One sub-device logged in again, while the gateway stays connected: after the platform
    /// answered its post with 520 (its session is gone: logged out, or the login was lost).
    func login(again device: String) -> UplinkMessage? {
        signedList(.login, [device], at: nowMs()).map {
            UplinkMessage(topic: "/ext/session/\(productKey)/\(deviceName)/combine/batch_login", payload: $0)
        }
    }

    private enum SignedList { case topologyAdd, login }

    /// A topology add or a batch login of `devices`, each entry signed; nil when none can be.
    private func signedList(_ kind: SignedList, _ devices: [String], at now: Int64) -> [UInt8]? {
        var entries: [UInt8] = []
        for device in devices {
            guard let sub = subDevices[device] else { continue }
            let clientID = "\(sub.productKey).\(sub.deviceName)"
            guard let signature = sign(device, "clientId\(clientID)deviceName\(sub.deviceName)productKey\(sub.productKey)timestamp\(now)") else { continue }
            if !entries.isEmpty { entries.append(0x2C) }
            RecordJSON.literal(#"{"productKey":"#, to: &entries); RecordJSON.appendString(sub.productKey, to: &entries)
            RecordJSON.literal(#","deviceName":"#, to: &entries); RecordJSON.appendString(sub.deviceName, to: &entries)
            RecordJSON.literal(#","clientId":"#, to: &entries); RecordJSON.appendString(clientID, to: &entries)
            RecordJSON.literal(#","timestamp":""#, to: &entries); RecordJSON.appendInteger(now, to: &entries)
            RecordJSON.literal(kind == .login ? #"","cleanSession":"false","sign":""# : #"","signmethod":"hmacSha256","sign":""#, to: &entries)
            entries.append(contentsOf: signature.utf8)
            RecordJSON.literal(#""}"#, to: &entries)
        }
        guard !entries.isEmpty else { return nil }
        var out: [UInt8] = []
        // Ids: the clock's ms; the login's one more, apart from the topology add of the same connect.
        switch kind {
        case .topologyAdd:
            header(id: Self.messageID(UInt64(now)), to: &out)
            RecordJSON.literal(#","params":["#, to: &out); out += entries
            RecordJSON.literal(#"],"method":"thing.topo.add"}"#, to: &out)
        case .login:
            header(id: Self.messageID(UInt64(now) + 1), to: &out)
            RecordJSON.literal(#","params":{"signMethod":"hmacSha256","deviceList":["#, to: &out); out += entries
            RecordJSON.literal("]}}", to: &out)
        }
        return out
    }

    /// `gas-1`, `gas` → `gas_1_gas`: Alink identifiers are letters, digits and `_`.
    public static func identifier(device: String, point: String) -> String { ThingModelJSON.identifier("\(device)_\(point)") }
    public static func identifier(point: String) -> String { ThingModelJSON.identifier(point) }

    public func messages(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UplinkMessage] {
        let (live, history, events) = ThingModelJSON.split(batch, sentAt: sentAt, historyAfterMs: historyAfterMs)
        var out = events.compactMap { event($0.event, seq: $0.seq) }
        // History first: it is older. One message per thing and chunk.
        var start = 0
        while start < history.count {
            let owner = thing(of: history[start].reading.device)
            var end = start
            while end < history.count, end - start < Self.maxHistoryProperties, thing(of: history[end].reading.device) == owner { end += 1 }
            out.append(historyMessage(Array(history[start..<end])))
            start = end
        }
        out += ThingModelJSON.posts(live, owner: { thing(of: $0.device) }, name: { identifier($0) }).map(propertyPost)
        return out
    }

    /// `{"id":…,"version":"1.0","params":{"gas_1_gas":{"value":2.45,"time":…}},"method":"thing.event.property.post"}`
    private func propertyPost(_ items: [(seq: UInt64, reading: Reading)]) -> UplinkMessage {
        let id = Self.messageID(items[0].seq)
        var out: [UInt8] = []
        header(id: id, to: &out)
        RecordJSON.literal(#","params":{"#, to: &out)
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(0x2C) }
            property(item.reading, to: &out)
        }
        RecordJSON.literal(#"},"method":"thing.event.property.post"}"#, to: &out)
        return UplinkMessage(topic: "\(thing(of: items[0].reading.device))/property/post", payload: out, replyID: id)
    }

    /// `params: [{ identity: { productKey, deviceName }, properties: [{ "gas_1_gas": { value, time } }, …], events: [] }]`
    private func historyMessage(_ items: [(seq: UInt64, reading: Reading)]) -> UplinkMessage {
        let id = Self.messageID(items[0].seq)
        var out: [UInt8] = []
        header(id: id, to: &out)
        let sub = subDevices[items[0].reading.device]
        RecordJSON.literal(#","params":[{"identity":{"productKey":"#, to: &out)
        RecordJSON.appendString(sub?.productKey ?? productKey, to: &out)
        RecordJSON.literal(#","deviceName":"#, to: &out)
        RecordJSON.appendString(sub?.deviceName ?? deviceName, to: &out)
        RecordJSON.literal(#"},"properties":["#, to: &out)
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(0x2C) }
            out.append(0x7B)
            property(item.reading, to: &out)
            out.append(0x7D)
        }
        RecordJSON.literal(#"],"events":[]}],"method":"thing.event.property.history.post"}"#, to: &out)
        return UplinkMessage(topic: "\(thing)/property/history/post", payload: out, replyID: id)
    }

    /// Alarms as event `alarm`, device state changes as event `device_state` (their fields in docs/alink.md).
    private func event(_ e: Event, seq: UInt64) -> UplinkMessage? {
        guard let (identifier, value) = ThingModelJSON.event(e) else { return nil }
        let id = Self.messageID(seq)
        var out: [UInt8] = []
        header(id: id, to: &out)
        RecordJSON.literal(#","params":{"value":"#, to: &out)
        out.append(contentsOf: value)
        RecordJSON.literal(#","time":"#, to: &out); RecordJSON.appendInteger(e.timestamp.milliseconds, to: &out)
        RecordJSON.literal(#"},"method":"thing.event."#, to: &out)
        out.append(contentsOf: identifier.utf8)
        RecordJSON.literal(#".post"}"#, to: &out)
        return UplinkMessage(topic: "\(thing(of: e.device))/\(identifier)/post", payload: out, replyID: id)
    }

    private func header(id: String, to out: inout [UInt8]) { ThingModelJSON.header(id: id, to: &out) }

    /// `"gas_1_gas":{"value":2.45,"time":…}`; Alink's bool is 0/1.
    private func property(_ r: Reading, to out: inout [UInt8]) {
        RecordJSON.appendString(identifier(r), to: &out)
        out.append(0x3A)
        ThingModelJSON.timedValue(r, boolAsNumber: true, to: &out)
    }

    /// Alink ids are decimal strings in 0…4294967295, unique per device: the
    /// message's first seq (unique per gateway, the same when resent).
    static func messageID(_ seq: UInt64) -> String { String(seq % 4_294_967_296) }

    /// `{"code":200,"id":"…","message":"success",…}` on a `…_reply` topic.
    public func platformReply(topic: String, payload: [UInt8]) -> PlatformReply? {
        guard topic.hasSuffix("_reply") else { return nil }
        guard var reply = ThingModelJSON.reply(topic: topic, payload: payload, platform: "Alink", messageKey: "message", refusal: { code, reason in
            switch code {
            // Bad parameters, and the thing model's checks (6xxx): this content will never be taken.
            case 400, 460, 6000..<7000: .rejected(reason: reason)
            case 401, 403: .unauthorized(reason: reason)
            default: .retry(afterMs: nil, reason: reason) // 429 rate limit, 5xx, 520 a sub-device without a session
            }
        }) else { return nil }
        // 520, "子设备会话错误": the sub-device is not logged in (the platform logged it out, or the
        // login of this connect was refused or lost). Log it in again now; the post is retried after backoff.
        if reply.code == Self.subDeviceSessionGone,
           let device = subDevices.first(where: { topic.hasPrefix("/sys/\($0.value.productKey)/\($0.value.deviceName)/") })?.key,
           let login = login(again: device) {
            reply.followUp = [login]
        }
        return reply
    }

    /// Alink's code for a post of a sub-device that has no session.
    static let subDeviceSessionGone = 520
}

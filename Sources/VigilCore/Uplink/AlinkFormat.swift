/// Alibaba Cloud IoT Platform's Alink protocol (docs/alink.md), as its
/// documentation gives the topics ("设备属性上报", "设备事件上报", "物模型历史数据上报"):
/// readings as properties of the gateway device, identifier `<device>_<point>`;
/// readings from a backlog (older than `historyAfterMs` when sent) through the
/// history topic; alarms and device state changes as events. Every message
/// asks for the platform's reply, which is the commit point (code 200).
public struct AlinkFormat: MessageFormat {
    public let productKey: String
    public let deviceName: String
    /// Readings older than this when sent go as history (the platform's rules see them as such).
    public let historyAfterMs: Int64
    /// Alink takes at most 200 properties in one history message.
    public static let maxHistoryProperties = 200

    public init(productKey: String, deviceName: String, historyAfterMs: Int64 = 5 * 60_000) {
        self.productKey = productKey; self.deviceName = deviceName; self.historyAfterMs = historyAfterMs
    }

    private var thing: String { "/sys/\(productKey)/\(deviceName)/thing/event" }

    public var batchesCarryStatus: Bool { false }
    public func presence(online: Bool, status: GatewayStatus?, sentAt: WallTime) -> UplinkMessage? { nil }
    public var replyTopics: [String] { ["\(thing)/+/post_reply", "\(thing)/property/history/post_reply"] }

    /// `gas-1`, `gas` → `gas_1_gas`: Alink identifiers are letters, digits and `_`.
    public static func identifier(device: String, point: String) -> String {
        String("\(device)_\(point)".map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
    }

    public func messages(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UplinkMessage] {
        var out: [UplinkMessage] = []
        var live: [(seq: UInt64, reading: Reading)] = []
        var history: [(seq: UInt64, reading: Reading)] = []
        for stored in batch.records {
            switch stored.record {
            case .reading(let r):
                guard r.value != nil else { continue } // Alink has no quality: a failed read has no value to post
                if sentAt.milliseconds - r.timestamp.milliseconds > historyAfterMs { history.append((stored.seq, r)) } else { live.append((stored.seq, r)) }
            case .event(let e):
                if let message = event(e, seq: stored.seq) { out.append(message) }
            }
        }
        // History first: it is older.
        var start = 0
        while start < history.count {
            let chunk = history[start..<min(start + Self.maxHistoryProperties, history.count)]
            out.append(historyMessage(Array(chunk)))
            start += chunk.count
        }
        // A property appears once in a post: a second poll of it starts the next message.
        var group: [(seq: UInt64, reading: Reading)] = []
        var names: Set<String> = []
        for item in live {
            let name = Self.identifier(device: item.reading.device, point: item.reading.point)
            if names.contains(name) {
                out.append(propertyPost(group))
                group = []
                names = []
            }
            group.append(item)
            names.insert(name)
        }
        if !group.isEmpty { out.append(propertyPost(group)) }
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
        return UplinkMessage(topic: "\(thing)/property/post", payload: out, replyID: id)
    }

    /// `params: [{ identity: { productKey, deviceName }, properties: [{ "gas_1_gas": { value, time } }, …], events: [] }]`
    private func historyMessage(_ items: [(seq: UInt64, reading: Reading)]) -> UplinkMessage {
        let id = Self.messageID(items[0].seq)
        var out: [UInt8] = []
        header(id: id, to: &out)
        RecordJSON.literal(#","params":[{"identity":{"productKey":"#, to: &out)
        RecordJSON.appendString(productKey, to: &out)
        RecordJSON.literal(#","deviceName":"#, to: &out)
        RecordJSON.appendString(deviceName, to: &out)
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
        let identifier: String
        var value: [UInt8] = [0x7B]
        switch e.kind {
        case .alarmRaised, .alarmCleared:
            guard let alarm = e.alarm else { return nil }
            identifier = "alarm"
            RecordJSON.literal(#""device":"#, to: &value); RecordJSON.appendString(e.device ?? "", to: &value)
            RecordJSON.literal(#","point":"#, to: &value); RecordJSON.appendString(alarm.point, to: &value)
            RecordJSON.literal(#","level":"#, to: &value); RecordJSON.appendString(alarm.level.rawValue, to: &value)
            RecordJSON.literal(e.kind == .alarmRaised ? #","state":"raised""# : #","state":"cleared""#, to: &value)
            RecordJSON.literal(#","value":"#, to: &value); RecordJSON.appendValue(alarm.value.map { .double($0) }, to: &value)
            RecordJSON.literal(#","setpoint":"#, to: &value); RecordJSON.appendValue(.double(alarm.setpoint), to: &value)
        case .deviceOnline, .deviceOffline:
            identifier = "device_state"
            RecordJSON.literal(#""device":"#, to: &value); RecordJSON.appendString(e.device ?? "", to: &value)
            RecordJSON.literal(e.kind == .deviceOnline ? #","state":"online""# : #","state":"offline""#, to: &value)
            RecordJSON.literal(#","detail":"#, to: &value); RecordJSON.appendString(e.detail ?? "", to: &value)
        default:
            return nil // acknowledgements, outputs, gateway events: kept in the journal and `vigil status`, not modelled in Alink
        }
        value.append(0x7D)
        let id = Self.messageID(seq)
        var out: [UInt8] = []
        header(id: id, to: &out)
        RecordJSON.literal(#","params":{"value":"#, to: &out)
        out.append(contentsOf: value)
        RecordJSON.literal(#","time":"#, to: &out); RecordJSON.appendInteger(e.timestamp.milliseconds, to: &out)
        RecordJSON.literal(#"},"method":"thing.event."#, to: &out)
        out.append(contentsOf: identifier.utf8)
        RecordJSON.literal(#".post"}"#, to: &out)
        return UplinkMessage(topic: "\(thing)/\(identifier)/post", payload: out, replyID: id)
    }

    private func header(id: String, to out: inout [UInt8]) {
        RecordJSON.literal(#"{"id":""#, to: &out)
        out.append(contentsOf: id.utf8)
        RecordJSON.literal(#"","version":"1.0""#, to: &out)
    }

    private func property(_ r: Reading, to out: inout [UInt8]) {
        RecordJSON.appendString(Self.identifier(device: r.device, point: r.point), to: &out)
        RecordJSON.literal(#":{"value":"#, to: &out)
        if case .bool(let on)? = r.value { out.append(on ? 0x31 : 0x30) } else { RecordJSON.appendValue(r.value, to: &out) } // Alink's bool is 0/1
        RecordJSON.literal(#","time":"#, to: &out)
        RecordJSON.appendInteger(r.timestamp.milliseconds, to: &out)
        out.append(0x7D)
    }

    /// Alink ids are decimal strings in 0…4294967295, unique per device: the
    /// message's first seq (unique per gateway, the same when resent).
    static func messageID(_ seq: UInt64) -> String { String(seq % 4_294_967_296) }

    /// `{"code":200,"id":"…","message":"success",…}` on a `…_reply` topic.
    public func platformReply(topic: String, payload: [UInt8]) -> PlatformReply? {
        guard topic.hasSuffix("_reply"), let root = try? JSON5Reader.parse(String(decoding: payload, as: UTF8.self)),
              case .string(let id)? = root["id"]?.value else { return nil }
        guard case .number(let number)? = root["code"]?.value else {
            return PlatformReply(id: id, outcome: .retry(afterMs: nil, reason: "a reply on \(topic) without a code"))
        }
        let code = Int(number)
        guard code != 200 else { return PlatformReply(id: id, outcome: .delivered) }
        let message: String = if case .string(let text)? = root["message"]?.value { text } else { "" }
        let reason = "Alink \(code) \(message) (message \(id) on \(topic))"
        switch code {
        // Bad parameters, and the thing model's checks (6xxx): this content will never be taken.
        case 400, 460, 6000..<7000: return PlatformReply(id: id, outcome: .rejected(reason: reason))
        case 401, 403: return PlatformReply(id: id, outcome: .unauthorized(reason: reason))
        default: return PlatformReply(id: id, outcome: .retry(afterMs: nil, reason: reason)) // 429 rate limit, 5xx
        }
    }
}

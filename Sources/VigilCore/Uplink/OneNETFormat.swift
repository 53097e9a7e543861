/// China Mobile OneNET's thing model over MQTT, OneJSON (docs/onenet.md), as its
/// documentation gives the topics ("设备属性上报", "设备事件上报", "历史数据上报"):
/// readings as properties of the gateway device, identifier `<device>_<point>`;
/// readings from a backlog (older than `historyAfterMs` when sent) through the
/// history topic; alarms and device state changes as events. Every message is
/// answered on its `…/reply` topic, and that answer (code 200) is the commit point.
public struct OneNETFormat: MessageFormat {
    public let productID: String
    public let deviceName: String
    /// Readings older than this when sent go as history.
    public let historyAfterMs: Int64
    /// OneNET takes at most 100 properties in a history message, and 100 values of each.
    public static let maxHistoryProperties = 100
    public static let maxHistoryValues = 100

    public init(productID: String, deviceName: String, historyAfterMs: Int64 = 5 * 60_000) {
        self.productID = productID; self.deviceName = deviceName; self.historyAfterMs = historyAfterMs
    }

    private var thing: String { "$sys/\(productID)/\(deviceName)/thing" }
    public var batchesCarryStatus: Bool { false }
    public func presence(online: Bool, status: GatewayStatus?, sentAt: WallTime) -> UplinkMessage? { nil }
    public var replyTopics: [String] { ["\(thing)/property/post/reply", "\(thing)/event/post/reply", "\(thing)/history/post/reply"] }

    public static func identifier(device: String, point: String) -> String { ThingModelJSON.identifier("\(device)_\(point)") }
    private func identifier(_ r: Reading) -> String { Self.identifier(device: r.device, point: r.point) }

    public func messages(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UplinkMessage] {
        let (live, history, events) = ThingModelJSON.split(batch, sentAt: sentAt, historyAfterMs: historyAfterMs)
        var out = events.compactMap { event($0.event, seq: $0.seq) }
        out += historyChunks(history).map(historyMessage)
        out += ThingModelJSON.posts(live, owner: { _ in thing }, name: { identifier($0) }).map(propertyPost)
        return out
    }

    /// `{"id":"41","version":"1.0","params":{"gas_1_gas":{"value":2.45,"time":…}}}`
    private func propertyPost(_ items: [ThingModelJSON.Item]) -> UplinkMessage {
        let id = Self.messageID(items[0].seq)
        var out: [UInt8] = []
        ThingModelJSON.header(id: id, to: &out)
        RecordJSON.literal(#","params":{"#, to: &out)
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(0x2C) }
            RecordJSON.appendString(identifier(item.reading), to: &out)
            out.append(0x3A)
            ThingModelJSON.timedValue(item.reading, boolAsNumber: false, to: &out)
        }
        RecordJSON.literal("}}", to: &out)
        return UplinkMessage(topic: "\(thing)/property/post", payload: out, replyID: id)
    }

    /// Chunks within OneNET's limits, in journal order: a new chunk when a property
    /// would be the 101st, or would get its 101st value.
    private func historyChunks(_ items: [ThingModelJSON.Item]) -> [[ThingModelJSON.Item]] {
        var chunks: [[ThingModelJSON.Item]] = []
        var chunk: [ThingModelJSON.Item] = []
        var counts: [String: Int] = [:]
        for item in items {
            let name = identifier(item.reading)
            let count = counts[name] ?? 0
            if count == Self.maxHistoryValues || (count == 0 && counts.count == Self.maxHistoryProperties) {
                chunks.append(chunk)
                chunk = []
                counts = [:]
            }
            chunk.append(item)
            counts[name, default: 0] += 1
        }
        if !chunk.isEmpty { chunks.append(chunk) }
        return chunks
    }

    /// `{"id":…,"version":"1.0","params":[{"properties":{"gas_1_gas":[{"value":…,"time":…},…]}}]}`:
    /// without `identity`, the values are the topic's device's, the gateway's.
    private func historyMessage(_ items: [ThingModelJSON.Item]) -> UplinkMessage {
        let id = Self.messageID(items[0].seq)
        var byName: [(name: String, readings: [Reading])] = []
        var index: [String: Int] = [:]
        for item in items {
            let name = identifier(item.reading)
            if let i = index[name] { byName[i].readings.append(item.reading) } else {
                index[name] = byName.count
                byName.append((name, [item.reading]))
            }
        }
        var out: [UInt8] = []
        ThingModelJSON.header(id: id, to: &out)
        RecordJSON.literal(#","params":[{"properties":{"#, to: &out)
        for (i, property) in byName.enumerated() {
            if i > 0 { out.append(0x2C) }
            RecordJSON.appendString(property.name, to: &out)
            RecordJSON.literal(":[", to: &out)
            for (j, r) in property.readings.enumerated() {
                if j > 0 { out.append(0x2C) }
                ThingModelJSON.timedValue(r, boolAsNumber: false, to: &out)
            }
            out.append(0x5D)
        }
        RecordJSON.literal("}}]}", to: &out)
        return UplinkMessage(topic: "\(thing)/history/post", payload: out, replyID: id)
    }

    /// `{"id":…,"version":"1.0","params":{"alarm":{"value":{…},"time":…}}}` (the fields in docs/onenet.md).
    private func event(_ e: Event, seq: UInt64) -> UplinkMessage? {
        guard let (identifier, value) = ThingModelJSON.event(e) else { return nil }
        let id = Self.messageID(seq)
        var out: [UInt8] = []
        ThingModelJSON.header(id: id, to: &out)
        RecordJSON.literal(#","params":{"#, to: &out)
        RecordJSON.appendString(identifier, to: &out)
        RecordJSON.literal(#":{"value":"#, to: &out)
        out += value
        RecordJSON.literal(#","time":"#, to: &out); RecordJSON.appendInteger(e.timestamp.milliseconds, to: &out)
        RecordJSON.literal("}}}", to: &out)
        return UplinkMessage(topic: "\(thing)/event/post", payload: out, replyID: id)
    }

    /// OneJSON ids are decimal strings of at most 13 digits: the message's first seq
    /// (unique per gateway, the same when resent).
    static func messageID(_ seq: UInt64) -> String { String(seq % 10_000_000_000_000) }

    /// `{"id":"…","code":200,"msg":"…"}` on a `…/reply` topic.
    public func platformReply(topic: String, payload: [UInt8]) -> PlatformReply? {
        guard topic.hasSuffix("/reply") else { return nil }
        return ThingModelJSON.reply(topic: topic, payload: payload, platform: "OneNET", messageKey: "msg") { code, reason in
            switch code {
            // A message the platform cannot read, or that the thing model does not take: never taken as it is.
            case 400: .rejected(reason: reason)
            case 401, 403: .unauthorized(reason: reason)
            default: .retry(afterMs: nil, reason: reason) // rate limits, server errors, and codes not documented: held and retried
            }
        }
    }
}

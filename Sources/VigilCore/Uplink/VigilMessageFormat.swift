/// `format: "vigil"` over MQTT: one message per batch, the batch JSON of
/// docs/uplink-protocol.md (so a subscriber deduplicates by `batch_id` and by
/// (gateway, seq) exactly as an HTTP upstream does), on
/// `{prefix}/{gateway}/telemetry` and `{prefix}/{gateway}/events`; presence,
/// retained, on `{prefix}/{gateway}/status`.
public struct VigilMessageFormat: MessageFormat {
    public let gateway: String
    public let prefix: String

    /// false: readings go without `raw` (`send_raw: false`).
    public let sendRaw: Bool

    public init(gateway: String, prefix: String, sendRaw: Bool = true) { self.gateway = gateway; self.prefix = prefix; self.sendRaw = sendRaw }

    public func topic(_ leaf: String) -> String { "\(prefix)/\(gateway)/\(leaf)" }

    public func messages(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UplinkMessage] {
        [UplinkMessage(topic: topic(batch.lane.rawValue), payload: batch.json(sentAt: sentAt, status: status, raw: sendRaw))]
    }

    /// `{"online":true,"gateway":…,"sent_at":…,"status":{…}}`; the Will is `{"online":false,"gateway":…}`
    /// (it is written at connect, so it carries no time of its own: the broker's delivery is the news).
    public func presence(online: Bool, status: GatewayStatus?, sentAt: WallTime) -> UplinkMessage? {
        var out: [UInt8] = []
        RecordJSON.literal(online ? #"{"online":true,"gateway":"# : #"{"online":false,"gateway":"#, to: &out)
        RecordJSON.appendString(gateway, to: &out)
        if online {
            RecordJSON.literal(#","sent_at":"#, to: &out); RecordJSON.appendString(sentAt.iso8601, to: &out)
        }
        if let status {
            RecordJSON.literal(#","status":"#, to: &out)
            status.appendJSON(to: &out)
        }
        out.append(0x7D)
        return UplinkMessage(topic: topic("status"), payload: out, retain: true)
    }
}

/// One message for a topic-based transport (MQTT): what a format makes of a
/// batch or of the gateway's presence.
public struct UplinkMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    /// Kept by the broker for late subscribers (presence).
    public var retain: Bool

    public init(topic: String, payload: [UInt8], retain: Bool = false) {
        self.topic = topic; self.payload = payload; self.retain = retain
    }
}

/// A format for a topic-based transport: pure, no I/O. The transport
/// publishes `messages(for:)` and acknowledges the batch when every one of
/// them is acknowledged; it sets `presence(online: false)` as its Last Will
/// and publishes `presence(online: true)` on every connect and heartbeat.
public protocol MessageFormat: Sendable {
    func messages(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UplinkMessage]
    func presence(online: Bool, status: GatewayStatus?, sentAt: WallTime) -> UplinkMessage
}

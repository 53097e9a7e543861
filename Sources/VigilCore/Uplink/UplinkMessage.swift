/// One message for a topic-based transport (MQTT): what a format makes of a
/// batch or of the gateway's presence.
public struct UplinkMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    /// Kept by the broker for late subscribers (presence).
    public var retain: Bool
    /// 1: the transport waits for its PUBACK. 0 only where a spec demands it (Sparkplug's data),
    /// and then a batch ends with a QoS 1 message whose PUBACK is the commit point.
    public var qos: Int32
    /// Set when the platform answers the message itself (Alink's post_reply): the
    /// batch is acknowledged only by that answer, which names this id.
    public var replyID: String?

    public init(topic: String, payload: [UInt8], retain: Bool = false, qos: Int32 = 1, replyID: String? = nil) {
        self.topic = topic; self.payload = payload; self.retain = retain; self.qos = qos; self.replyID = replyID
    }
}

/// The platform's own answer to a message that asked for one (`UplinkMessage.replyID`).
public struct PlatformReply: Sendable, Equatable {
    public var id: String
    /// `.delivered`, or what the refusal means for the batch.
    public var outcome: UplinkOutcome
    /// The platform's own code (200 for delivered), when it gives one.
    public var code: Int?
    /// What the transport publishes at once, before the batch goes again (Alink: a sub-device's login).
    public var followUp: [UplinkMessage] = []
    public init(id: String, outcome: UplinkOutcome, code: Int? = nil) { self.id = id; self.outcome = outcome; self.code = code }
}

/// A format for a topic-based transport: pure, no I/O. The transport
/// publishes `messages(for:)` and acknowledges the batch when every one of
/// them is acknowledged; it sets `presence(online: false)` as its Last Will
/// and publishes `presence(online: true)` and then `announcements` on every
/// connect, and presence again on every heartbeat.
public protocol MessageFormat: Sendable {
    func messages(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UplinkMessage]
    /// nil: the format has no such message (no Will, or no heartbeat).
    func presence(online: Bool, status: GatewayStatus?, sentAt: WallTime) -> UplinkMessage?
    /// State the platform needs before data, published on every connect (ThingsBoard: device connects, attributes).
    func announcements(status: GatewayStatus?) -> [UplinkMessage]
    /// Topics the transport subscribes to on every connect; what arrives goes to `command(topic:payload:)`.
    var commandTopics: [String] { get }
    /// Called by the transport before every connection attempt (Sparkplug: the next bdSeq, for the Will and the NBIRTH).
    func nextConnection()
    /// Why batches must wait now although the broker is connected (Sparkplug: the primary host is offline); nil: send.
    var holdReason: String? { get }
    /// The commands in a message on a command topic (none for a message that is not one).
    func commands(topic: String, payload: [UInt8]) -> [RemoteCommand]
    /// The answer to a command.
    func reply(to command: RemoteCommand, _ result: RemoteCommandResult) -> UplinkMessage?
    /// Whether `messages(for:)` carries the status (else presence goes out every heartbeat, busy or not).
    var batchesCarryStatus: Bool { get }
    /// Topics the platform's answers come on (subscribed on every connect), and an answer read from one.
    var replyTopics: [String] { get }
    func platformReply(topic: String, payload: [UInt8]) -> PlatformReply?
}

extension MessageFormat {
    public func announcements(status: GatewayStatus?) -> [UplinkMessage] { [] }
    public var commandTopics: [String] { [] }
    public func nextConnection() {}
    public var holdReason: String? { nil }
    public func commands(topic: String, payload: [UInt8]) -> [RemoteCommand] { [] }
    public func reply(to command: RemoteCommand, _ result: RemoteCommandResult) -> UplinkMessage? { nil }
    public var batchesCarryStatus: Bool { true }
    public var replyTopics: [String] { [] }
    public func platformReply(topic: String, payload: [UInt8]) -> PlatformReply? { nil }
}

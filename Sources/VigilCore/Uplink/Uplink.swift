/// What became of one batch.
public enum UplinkOutcome: Sendable, Equatable {
    /// Acknowledged (HTTP 2xx): the journal may forget it.
    case delivered
    /// Worth trying again (408, 429, 5xx, other 4xx, network): after `afterMs` when the upstream said (Retry-After).
    case retry(afterMs: Int?, reason: String)
    /// The upstream does not accept our credentials (401, 403, 407): nothing
    /// is wrong with the batch, so it waits, retried with backoff, until the
    /// token is fixed.
    case unauthorized(reason: String)
    /// The batch is larger than the upstream takes (413): the forwarder sends
    /// it again in halves; a single record too large is refused for good.
    case tooLarge(reason: String)
    /// The batch's content is refused for good (400, 422): a telemetry batch
    /// goes to the dead-letter directory (an events batch never does).
    case rejected(reason: String)
    /// The upstream is reachable but will not take this lane's batch now (an
    /// MQTT PUBACK error: a topic the broker does not allow, a quota): this lane
    /// waits with a backoff of its own, the other lanes go on — a refused
    /// telemetry topic never delays an alarm.
    case laneRefused(reason: String)

    /// The outcome of an HTTP answer: 2xx delivered; 401, 403, 407
    /// unauthorized; 413 too large; 400, 422 refused; anything else retried (honouring a
    /// Retry-After in seconds): a wrong URL (404) is a setting to fix, not a
    /// reason to throw data away.
    public static func forHTTP(status: Int, retryAfter: String?, body: String) -> UplinkOutcome {
        let text = trimmed(body)
        let snippet = text.count > 200 ? String(text.prefix(200)) + "…" : text
        let reason = "HTTP \(status)" + (snippet.isEmpty ? "" : ": \(snippet)")
        switch status {
        case 200..<300: return .delivered
        case 401, 403, 407: return .unauthorized(reason: "authentication refused (\(reason))")
        case 413: return .tooLarge(reason: reason)
        case 400, 422: return .rejected(reason: reason)
        default:
            let seconds = retryAfter.flatMap { Int(trimmed($0)) }
            return .retry(afterMs: seconds.map { min($0, 3600) * 1000 }, reason: reason)
        }
    }
}

/// Where the forwarder sends batches. Called from the forwarder's thread only.
public protocol Uplink: Sendable {
    var name: String { get }
    func send(_ batch: UplinkBatch, status: GatewayStatus?) -> UplinkOutcome
    /// How many full batches of a lane may be on their way at once: 1, one batch and
    /// then its acknowledgement (HTTP/1.1 has no more); MQTT sends several before
    /// the first PUBACK, so a backlog drains at the link's speed, not at one batch
    /// per round trip (a cellular link's 100–600 ms).
    var batchesInFlight: Int { get }
    /// Sends consecutive full batches of one lane together (at most `batchesInFlight`).
    /// `.delivered` when every one was acknowledged; any other outcome is the
    /// group's, and the forwarder sends them again (the upstream deduplicates by
    /// batch id and seq) or sends the first alone to learn what it needs.
    func send(_ batches: [UplinkBatch], status: GatewayStatus?) -> UplinkOutcome
    /// A heartbeat when nothing else was sent; nil when the uplink has none.
    func sendHeartbeat(_ status: GatewayStatus) -> UplinkOutcome?
    /// An orderly stop, after the forwarder's last batch (MQTT: presence offline, DISCONNECT).
    func close()
    /// Whether batches carry the gateway's status (when `StatusSchedule` says so, else nil); when not, every batch
    /// gets the latest status to keep (not to send), and heartbeats go every `heartbeat_s` even while busy.
    var batchesCarryStatus: Bool { get }
    /// Bytes put on the wire both ways since the uplink was made (the cellular bill; `TrafficLedger`).
    var bytesOnTheWire: UInt64 { get }
}

extension Uplink {
    public func close() {}
    public var batchesCarryStatus: Bool { true }
    public var bytesOnTheWire: UInt64 { 0 }
    public var batchesInFlight: Int { 1 }
    public func send(_ batches: [UplinkBatch], status: GatewayStatus?) -> UplinkOutcome {
        precondition(batches.count == 1, "\(name) takes one batch at a time (batchesInFlight)")
        return send(batches[0], status: status)
    }
}

/// An uplink that brings commands down from the platform (ThingsBoard RPC):
/// it hands each to `handler` and sends the answer back the same way.
public protocol CommandChannel: Sendable {
    /// False when the format carries no commands (nothing will arrive).
    var carriesCommands: Bool { get }
    func acceptCommands(_ handler: @escaping @Sendable (RemoteCommand) -> Void)
    func reply(to command: RemoteCommand, _ result: RemoteCommandResult)
}

/// MQTT 5 reason codes (MQTT 5.0, 3.4.2.1 PUBACK and 3.2.2.2 CONNACK) as outcomes.
public enum MQTTReason {
    /// The outcome of a PUBACK's reason code on `topic`: below 0x80 delivered;
    /// "packet too large" splits the batch like a 413; "payload format invalid"
    /// refuses the content; anything else — "not authorized" (the broker's ACL
    /// does not let this client publish there: the connection's credentials were
    /// accepted), quota exceeded, topic name invalid — holds this lane only.
    public static func publishOutcome(_ code: Int, name: String, topic: String) -> UplinkOutcome {
        let reason = "broker answered PUBACK \(code) (\(name)) on \(topic)"
        switch code {
        case ..<0x80: return .delivered
        case 0x87: return .laneRefused(reason: "not allowed to publish on \(topic) (check the broker's ACL for this client): \(reason)")
        case 0x95: return .tooLarge(reason: reason)
        case 0x99: return .rejected(reason: reason)
        default: return .laneRefused(reason: reason)
        }
    }

    /// Whether a refused CONNACK is about our credentials: 4 and 5 on MQTT
    /// 3.1.1, 0x86 (bad user name or password) and 0x87 (not authorized) on MQTT 5.
    public static func isAuthenticationRefusal(connack code: Int, version: MQTTProtocolVersion) -> Bool {
        switch version {
        case .v311: code == 4 || code == 5
        case .v5: code == 0x86 || code == 0x87
        }
    }
}

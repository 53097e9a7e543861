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
    func send(_ batch: UplinkBatch, status: GatewayStatus) -> UplinkOutcome
    /// A heartbeat when nothing else was sent; nil when the uplink has none.
    func sendHeartbeat(_ status: GatewayStatus) -> UplinkOutcome?
}

/// What became of one batch.
public enum UplinkOutcome: Sendable, Equatable {
    /// Acknowledged (HTTP 2xx): the journal may forget it.
    case delivered
    /// Worth trying again (408, 429, 5xx, network): after `afterMs` when the upstream said (Retry-After).
    case retry(afterMs: Int?, reason: String)
    /// Refused for good (any other 4xx): it goes to the dead-letter directory.
    case rejected(reason: String)

    /// The outcome of an HTTP answer: 2xx delivered; 408, 429 and 5xx retried
    /// (honouring a Retry-After in seconds); any other status refused.
    public static func forHTTP(status: Int, retryAfter: String?, body: String) -> UplinkOutcome {
        let text = trimmed(body)
        let snippet = text.count > 200 ? String(text.prefix(200)) + "…" : text
        let reason = "HTTP \(status)" + (snippet.isEmpty ? "" : ": \(snippet)")
        switch status {
        case 200..<300: return .delivered
        case 408, 429, 500..<600:
            let seconds = retryAfter.flatMap { Int(trimmed($0)) }
            return .retry(afterMs: seconds.map { min($0, 3600) * 1000 }, reason: reason)
        default: return .rejected(reason: reason)
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

/// A format for a request-per-batch transport (HTTP): pure, no I/O. The
/// transport POSTs `body(for:)` and takes the upstream's 2xx as the batch's
/// acknowledgement.
public protocol BodyFormat: Sendable {
    var contentType: String { get }
    /// How a token is presented: `Authorization: <scheme> <token>`.
    var authorizationScheme: String { get }
    /// `status`: when the batch should carry it (`StatusSchedule`).
    func body(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UInt8]
    /// The batch in version 2 of the body, sent once the upstream asked for it
    /// (`Vigil-Batch: 2`); nil: the format has only one version.
    func compactBody(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UInt8]?
    /// A heartbeat when nothing else was sent; nil: the format has none.
    func heartbeat(_ status: GatewayStatus, gateway: String, sentAt: WallTime) -> [UInt8]?
}

extension BodyFormat {
    public func compactBody(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UInt8]? { nil }
}

/// `format: "vigil"` over HTTP: the batch JSON of docs/uplink-protocol.md.
public struct VigilBodyFormat: BodyFormat {
    /// false: readings go without `raw` (`send_raw: false`).
    public let sendRaw: Bool
    public init(sendRaw: Bool = true) { self.sendRaw = sendRaw }
    public var contentType: String { "application/json" }
    public var authorizationScheme: String { "Bearer" }

    public func body(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UInt8] {
        batch.json(sentAt: sentAt, status: status, raw: sendRaw)
    }

    public func compactBody(for batch: UplinkBatch, sentAt: WallTime, status: GatewayStatus?) -> [UInt8]? {
        batch.compactJSON(sentAt: sentAt, status: status, raw: sendRaw)
    }

    public func heartbeat(_ status: GatewayStatus, gateway: String, sentAt: WallTime) -> [UInt8]? {
        status.heartbeatJSON(gateway: gateway, sentAt: sentAt)
    }
}

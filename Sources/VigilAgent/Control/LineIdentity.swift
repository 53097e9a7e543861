import Glibc
import VigilCore

/// What a line really is, whatever name it was given: a serial device by its
/// real path (`/dev/serial/by-id/…` and symlinks resolved), a TCP endpoint by
/// the addresses its host resolves to (`localhost` is `127.0.0.1`). Two names
/// of one line must not open it twice: the agent's polls would get another
/// request's answer.
public enum LineIdentity: Equatable, Sendable {
    case serial(String)
    case tcp(addresses: Set<String>, port: Int)

    public init(_ transport: BusTransport) {
        switch transport {
        case .rtu(let serial): self = .serial(Self.realPath(serial.device))
        case .tcp(let host, let port), .rtuOverTCP(let host, let port, _): self = .tcp(addresses: Self.addresses(of: host), port: port)
        }
    }

    /// The identity of a status report's endpoint (`HOST:PORT`, `rtu-over-tcp://HOST:PORT` or a device path).
    public init(endpoint: String) {
        if endpoint.hasPrefix("/") { self = .serial(Self.realPath(endpoint)); return }
        let endpoint = endpoint.hasPrefix("rtu-over-tcp://") ? String(endpoint.dropFirst("rtu-over-tcp://".count)) : endpoint
        let colon = endpoint.lastIndex(of: ":")
        let host = colon.map { String(endpoint[..<$0]) } ?? endpoint
        let port = colon.flatMap { Int(endpoint[endpoint.index(after: $0)...]) } ?? 502
        self = .tcp(addresses: Self.addresses(of: host), port: port)
    }

    public func isSameLine(as other: LineIdentity) -> Bool {
        switch (self, other) {
        case (.serial(let a), .serial(let b)): return a == b
        case (.tcp(let a, let p), .tcp(let b, let q)): return p == q && !a.isDisjoint(with: b)
        default: return false
        }
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Every address the host resolves to, as text; the name itself when it does not resolve.
    static func addresses(of host: String) -> Set<String> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [host] }
        defer { freeaddrinfo(list) }
        var found: Set<String> = []
        var node = list
        while let n = node {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(n.pointee.ai_addr, n.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                found.insert(String(cString: text))
            }
            node = n.pointee.ai_next
        }
        return found.isEmpty ? [host] : found
    }
}

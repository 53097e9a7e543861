import Foundation

/// An AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET: it
/// keeps every message the agent sends, with when it came.
public final class NotifySocket: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [(at: Date, message: String)] = []
    private var thread: Thread?

    /// `abstract`: an abstract socket (`@name` in NOTIFY_SOCKET), bound with
    /// the exact address length as systemd does.
    public init(abstract: Bool = false) throws {
        path = abstract ? "@vigil-test-\(UUID().uuidString.prefix(8))" : temporaryDirectory() + "/notify.sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { buffer in
            for (i, byte) in path.utf8.enumerated() { buffer[i] = byte }
            if abstract { buffer[0] = 0 }
        }
        let length = abstract ? socklen_t(MemoryLayout<sa_family_t>.size + path.utf8.count) : socklen_t(MemoryLayout<sockaddr_un>.size)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard rc == 0 else { throw MissingPeer(description: "cannot bind \(path): \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let t = Thread { [weak self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while let self {
                let n = recv(self.fd, &buffer, buffer.count, 0)
                if n > 0 {
                    self.lock.lock(); self.received.append((Date(), String(decoding: buffer[0..<n], as: UTF8.self))); self.lock.unlock()
                } else if n < 0 && errno != EAGAIN && errno != EINTR {
                    return
                }
            }
        }
        thread = t
        t.start()
    }

    deinit { close(fd) }

    public var messages: [(at: Date, message: String)] { lock.lock(); defer { lock.unlock() }; return received }

    /// Every message that carries `NAME=` (e.g. "WATCHDOG=1").
    public func times(of assignment: String) -> [Date] {
        messages.filter { $0.message.split(separator: "\n").contains { $0 == assignment } }.map(\.at)
    }

    public func lastValue(of name: String) -> String? {
        for (_, message) in messages.reversed() {
            if let line = message.split(separator: "\n").last(where: { $0.hasPrefix("\(name)=") }) { return String(line.dropFirst(name.count + 1)) }
        }
        return nil
    }
}

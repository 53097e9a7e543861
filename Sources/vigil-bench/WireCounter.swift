import Glibc
import Synchronization
import VigilCore
import VigilThreads

/// Counts the bytes an uplink puts on the wire, both ways, at the TCP payload level
/// (no TCP/IP headers): a relay on loopback between the agent and its peer. The
/// process's own write counters cannot tell (curl sends with send(2), which they do
/// not count, and they do count the journal's file writes).
final class WireCounter: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let upstream = Atomic<Int>(0)
    private let downstream = Atomic<Int>(0)
    private let target: Int
    /// Each way, before bytes go on: half a link's round trip (0: none).
    private let delayNanos: Int64

    /// Bytes both ways so far, over every connection.
    var bytes: Int { up + down }
    /// From the agent to its peer.
    var up: Int { upstream.load(ordering: .relaxed) }
    /// From the peer to the agent: responses, acknowledgements.
    var down: Int { downstream.load(ordering: .relaxed) }

    init(relayingTo target: Int, roundTripMs: Int = 0) {
        self.target = target
        self.delayNanos = Int64(roundTripMs) * 500_000
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
            _ = bind(fd, p, length)
            _ = getsockname(fd, p, &length)
        } }
        listen(fd, 16)
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        DedicatedThread(name: "wire counter") { [self] in acceptForever() }.startDetached()
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    private func acceptForever() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: target)
            let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            } }
            guard connected == 0 else { close(client); close(server); continue }
            // A relay adds no delay of its own: without it Nagle holds a small write behind a delayed ACK.
            var on: Int32 = 1
            for fd in [client, server] { setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size)) }
            DedicatedThread(name: "wire relay") { [self] in relay(client, server) }.startDetached()
        }
    }

    private func relay(_ a: Int32, _ b: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var fds = [pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
        let lines = delayNanos > 0 ? [DelayLine(to: b, delayNanos: delayNanos), DelayLine(to: a, delayNanos: delayNanos)] : []
        defer { lines.forEach { $0.finish() }; close(a); close(b) }
        while poll(&fds, 2, -1) > 0 {
            for i in 0..<2 where fds[i].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
                if n <= 0 { return }
                // Nor does it delay its ACKs: the endpoints' own (MQTTUplink.quickAck) are what is measured.
                var on: Int32 = 1
                setsockopt(fds[i].fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &on, socklen_t(MemoryLayout<Int32>.size))
                if i == 0 { upstream.add(n, ordering: .relaxed) } else { downstream.add(n, ordering: .relaxed) }
                if lines.isEmpty { writeAll(fds[1 - i].fd, Array(buffer[0..<n])) } else { lines[i].send(Array(buffer[0..<n])) }
            }
        }
    }
}

/// Writes to `fd` what it is given `delayNanos` later, in order: one way of a slow link.
private final class DelayLine: @unchecked Sendable {
    private let fd: Int32
    private let delayNanos: Int64
    private let queue = Mutex<(items: [(due: Int64, bytes: [UInt8])], finished: Bool)>(([], false))
    private let done = Atomic<Bool>(false)

    init(to fd: Int32, delayNanos: Int64) {
        self.fd = fd
        self.delayNanos = delayNanos
        DedicatedThread(name: "delay line") { [self] in run() }.startDetached()
    }

    func send(_ bytes: [UInt8]) { queue.withLock { $0.items.append((monotonicNanos() + delayNanos, bytes)) } }

    /// No more input: returns once what is queued has been written (the caller closes the socket after).
    func finish() {
        queue.withLock { $0.finished = true }
        while !done.load(ordering: .acquiring) { usleep(1000) }
    }

    private func run() {
        while true {
            let (next, finished): ((due: Int64, bytes: [UInt8])?, Bool) = queue.withLock { q in
                guard let first = q.items.first, first.due <= monotonicNanos() else { return (nil, q.finished && q.items.isEmpty) }
                q.items.removeFirst()
                return (first, false)
            }
            if let next { writeAll(fd, next.bytes); continue }
            if finished { done.store(true, ordering: .releasing); return }
            usleep(500)
        }
    }
}

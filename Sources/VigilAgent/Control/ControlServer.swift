import CLinuxShims
import FoundationEssentials
import Glibc
import Synchronization
import VigilCore
import VigilThreads

/// Serves the control socket: a Unix stream socket (mode 0660, group `vigil`
/// when that group exists) taking one JSON request per line. Accepts on a
/// thread of its own, answers each connection on another, so a slow device
/// probe never holds up `vigil status`. Nobody can lock it: a request must
/// arrive whole within `requestSeconds` of its first byte, an idle connection
/// is closed after `idleSeconds`, a reply that cannot be sent within
/// `sendSeconds` is given up, and when every slot is taken the connection idle
/// the longest makes room for the new one.
public final class ControlServer: Sendable {
    public let path: String
    private let handler: ControlHandler
    private let listener: Int32
    private let thread: SupervisedThread
    private let log: Logger?
    /// The open connections: when each last did something, and whether a reply is being made.
    private let clients = Mutex<[Int32: Client]>([:])
    private struct Client { var lastActivity: Int64; var busy: Bool }
    /// The socket file this server created: at stop it is removed only if still there.
    private let inode: UInt64
    static let maxConnections = 16
    static let requestSeconds = 5
    static let idleSeconds = 30
    static let sendSeconds = 5

    public init(path: String, group: String?, handler: ControlHandler, supervisor: SupervisorService?, log: Logger?) throws(FileError) {
        let directory = directoryName(of: path)
        if !fileExists(directory) { try FileSystem.makeDirectory(directory) }
        // A live socket is another agent's: never take it over (a stale file from a crash is replaced).
        let probe = CLinuxShims_connect_unix(path)
        if probe >= 0 {
            close(probe)
            throw FileError(operation: "listen (another vigil agent answers on it)", path: path, errno: EADDRINUSE)
        }
        let fd = CLinuxShims_listen_unix(path, 0o660)
        if fd < 0 { throw FileError(operation: "listen", path: path, errno: -fd) }
        if let group, let entry = getgrnam(group) { _ = chown(path, uid_t.max, entry.pointee.gr_gid) }
        self.path = path
        self.listener = fd
        var st = stat()
        self.inode = stat(path, &st) == 0 ? UInt64(st.st_ino) : 0
        self.handler = handler
        self.thread = SupervisedThread(supervisor, part: .controlSocket, deadlineSeconds: 5)
        self.log = log
    }

    public func start() {
        thread.start(name: "control") { [self] in acceptLoop() }
    }

    public func stop() {
        thread.stop()
        close(listener)
        var st = stat()
        if stat(path, &st) == 0, UInt64(st.st_ino) == inode { unlink(path) }
    }

    private func acceptLoop() {
        while !thread.isStopping {
            thread.checkInNow()
            var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 500) > 0 else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            guard admit(fd) else {
                writeAll(fd, Self.encode(ControlReply<String>(error: "too many control connections, all busy; try again", code: ControlCode.failed)))
                close(fd)
                continue
            }
            DedicatedThread(name: "control conn") { [self] in
                serve(fd)
                // Out of the registry first, so no one shuts down a reused descriptor.
                clients.withLock { _ = $0.removeValue(forKey: fd) }
                close(fd)
            }.startDetached()
        }
    }

    /// Registers a new connection; at the limit, ends the one idle the longest
    /// (its thread sees the shutdown and leaves). False when all are busy.
    private func admit(_ fd: Int32) -> Bool {
        clients.withLock { all in
            if all.count >= Self.maxConnections {
                guard let oldest = all.filter({ !$0.value.busy }).min(by: { $0.value.lastActivity < $1.value.lastActivity })?.key else { return false }
                shutdown(oldest, Int32(SHUT_RDWR))
                all[oldest]?.busy = true // on its way out: not chosen twice
            }
            all[fd] = Client(lastActivity: monotonicNanos(), busy: false)
            return true
        }
    }

    private func mark(_ fd: Int32, busy: Bool) {
        clients.withLock { all in
            guard all[fd] != nil else { return }
            all[fd]!.busy = busy
            all[fd]!.lastActivity = monotonicNanos()
        }
    }

    /// One connection: requests and replies, a line each, until the client
    /// closes, stalls mid-request, or stays idle too long.
    private func serve(_ fd: Int32) {
        var sendTimeout = timeval(tv_sec: Self.sendSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        let peer = Self.peer(fd)
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var deadline = monotonicNanos() + Int64(Self.idleSeconds) * 1_000_000_000
        while true {
            let left = deadline - monotonicNanos()
            if left <= 0 {
                if !buffer.isEmpty { writeAll(fd, Self.encode(ControlReply<String>(error: "request not complete within \(Self.requestSeconds) s", code: ControlCode.usage))) }
                return
            }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(min(left / 1_000_000, 1000)))
            if ready < 0 && errno != EINTR { return }
            if ready <= 0 { continue }
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return }
            // A request's clock starts at its first byte: trickling does not extend it.
            if buffer.isEmpty { deadline = monotonicNanos() + Int64(Self.requestSeconds) * 1_000_000_000 }
            buffer += chunk[0..<n]
            if buffer.count > 1 << 20 { writeAll(fd, Self.encode(ControlReply<String>(error: "request too long", code: ControlCode.usage))); return }
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                mark(fd, busy: true)
                writeAll(fd, reply(to: line, peer: peer))
                mark(fd, busy: false)
                deadline = monotonicNanos() + Int64(buffer.isEmpty ? Self.idleSeconds : Self.requestSeconds) * 1_000_000_000
            }
        }
    }

    private func reply(to line: [UInt8], peer: String) -> [UInt8] {
        let request: ControlRequest
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { request = try decoder.decode(ControlRequest.self, from: Data(line)) } catch {
            return Self.encode(ControlReply<String>(error: "not a control request: \(error)", code: ControlCode.usage))
        }
        return handler.handle(request, peer: peer)
    }

    /// "uid 1000 (alice), pid 4242": who asked, for the log of writes.
    static func peer(_ fd: Int32) -> String {
        var pid: Int32 = 0, uid: UInt32 = 0, gid: UInt32 = 0
        guard CLinuxShims_peer_credentials(fd, &pid, &uid, &gid) == 0 else { return "unknown peer" }
        let name = getpwuid(uid).map { String(cString: $0.pointee.pw_name) }
        return "uid \(uid)\(name.map { " (\($0))" } ?? ""), pid \(pid)"
    }

    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        do { return Array(try encoder.encode(value)) + [0x0A] } catch {
            return Array(#"{"ok":false,"error":"cannot encode the reply","code":1}"#.utf8) + [0x0A]
        }
    }
}

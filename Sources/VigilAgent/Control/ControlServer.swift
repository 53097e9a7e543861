import CLinuxShims
import FoundationEssentials
import Glibc
import Synchronization
import VigilCore

/// Serves the control socket: a Unix stream socket (mode 0660, group `vigil`
/// when that group exists) taking one JSON request per line. Accepts on a
/// thread of its own, answers each connection on another, so a slow device
/// probe never holds up `vigil status`.
public final class ControlServer: Sendable {
    public let path: String
    private let handler: ControlHandler
    private let listener: Int32
    private let thread: SupervisedThread
    private let log: Logger?
    private let connections = Atomic<Int>(0)
    /// The socket file this server created: at stop it is removed only if still there.
    private let inode: UInt64
    static let maxConnections = 16

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
        self.thread = SupervisedThread(supervisor, part: "control socket", deadlineSeconds: 5)
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
            if connections.add(1, ordering: .relaxed).newValue > Self.maxConnections {
                connections.subtract(1, ordering: .relaxed)
                writeAll(fd, Self.encode(ControlReply<String>(error: "too many control connections", code: ControlCode.failed)))
                close(fd)
                continue
            }
            DedicatedThread(name: "control conn") { [self] in
                serve(fd)
                close(fd)
                connections.subtract(1, ordering: .relaxed)
            }.startDetached()
        }
    }

    /// One connection: requests and replies, a line each, until the client closes.
    private func serve(_ fd: Int32) {
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let peer = Self.peer(fd)
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return }
            buffer += chunk[0..<n]
            if buffer.count > 1 << 20 { writeAll(fd, Self.encode(ControlReply<String>(error: "request too long", code: ControlCode.usage))); return }
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                writeAll(fd, reply(to: line, peer: peer))
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

import Glibc
import Synchronization
import VigilCore

/// HJ 212-2017 over TCP (docs/hj212.md): the packets of a batch go out
/// together, and the batch is delivered when the platform answered every one
/// (CN=9014, matched by QN) — a packet written to the socket is not yet
/// stored. One connection, kept open, used from the forwarder's thread only;
/// any fault closes it, so a late answer never counts for a later batch.
public final class HJ212Uplink: Uplink, @unchecked Sendable {
    public let name: String
    private let spec: HJ212UplinkSpec
    private let format: HJ212Format
    private let password: SecretFile
    private var fd: Int32 = -1
    private var reader = HJ212FrameReader()
    private var requestNumbers = HJ212RequestNumbers()
    /// The minute and hour data as of the last batch delivered: a batch sent again counts nothing twice.
    private var statistics: HJ212Statistics
    private let wireBytes = Atomic<UInt64>(0)

    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(spec: HJ212UplinkSpec, format: HJ212Format) throws(SetupError) {
        self.spec = spec
        self.format = format
        statistics = format.newStatistics()
        name = spec.url
        do { password = try SecretFile(path: spec.passwordFile) } catch { throw SetupError(description: "uplink.password_file: \(error)") }
    }

    deinit { disconnect() }

    public var bytesOnTheWire: UInt64 { wireBytes.load(ordering: .relaxed) }
    /// HJ 212 has no message for the gateway's own status.
    public var batchesCarryStatus: Bool { false }
    public func sendHeartbeat(_ status: GatewayStatus) -> UplinkOutcome? { nil }
    public func close() { disconnect() }

    public func send(_ batch: UplinkBatch, status: GatewayStatus?) -> UplinkOutcome {
        password.changed()
        let now = WallTime.now(kernelSynchronised: true)
        var counted = statistics
        let packets = format.packets(for: batch, password: password.current, requestNumbers: &requestNumbers, statistics: &counted,
                                     nowMs: now.milliseconds)
        let outcome = deliver(packets)
        if case .delivered = outcome { statistics = counted }
        return outcome
    }

    /// Sends the packets and waits for every answer.
    private func deliver(_ packets: [HJ212Format.Packet]) -> UplinkOutcome {
        // Nothing in it HJ 212 carries (device events; points without a factor code).
        guard !packets.isEmpty else { return .delivered }
        let deadline = monotonicNanos() + Int64(spec.batching.timeoutMs) * 1_000_000
        if fd < 0, let failure = connect(deadline: deadline) { return .retry(afterMs: nil, reason: failure) }
        if let failure = writeAll(packets.flatMap(\.bytes), deadline: deadline) {
            disconnect()
            return .retry(afterMs: nil, reason: "sending to \(name): \(failure)")
        }
        var waiting = Set(packets.map(\.qn))
        while !waiting.isEmpty {
            while let data = reader.next() {
                if let refused = answer(data, waiting: &waiting) {
                    disconnect()
                    return refused
                }
            }
            guard !waiting.isEmpty else { break }
            if let failure = readSome(deadline: deadline) {
                disconnect()
                return .retry(afterMs: nil, reason: "\(failure): \(waiting.count) of \(packets.count) packets not answered")
            }
        }
        return .delivered
    }

    /// Takes one packet from the platform: a data answer (9014) ticks off its QN;
    /// a request answer (9011) refusing one of ours is the outcome. Requests of
    /// the platform's own (set the time, call for history) are not served.
    private func answer(_ data: [UInt8], waiting: inout Set<String>) -> UplinkOutcome? {
        guard let fields = try? HJ212Frame.Fields(parsing: data), let qn = fields["QN"], waiting.contains(qn) else { return nil }
        switch fields["CN"] {
        case "9014":
            waiting.remove(qn)
        case "9011":
            let code = fields.cpValues["QnRtn"] ?? "?"
            switch code {
            case "1": waiting.remove(qn)
            case "3": return .unauthorized(reason: "the platform refused the password (QnRtn=3); check password_file")
            case "4": return .unauthorized(reason: "the platform does not know MN \(fields["MN"] ?? "?") (QnRtn=4); check mn")
            default: return .retry(afterMs: nil, reason: "the platform refused packet \(qn) (QnRtn=\(code): \(Self.meaning(code)))")
            }
        default:
            break
        }
        return nil
    }

    /// HJ 212-2017 table 9, the request answers.
    static func meaning(_ qnRtn: String) -> String {
        switch qnRtn {
        case "2": "refused"
        case "5": "wrong ST"
        case "6": "wrong Flag"
        case "7": "wrong QN"
        case "8": "wrong CN"
        case "9": "wrong CRC"
        default: "unknown error"
        }
    }

    /// Connects and hangs up (`vigil uplink test`); the error, if any.
    public func connectOnce() -> String? {
        defer { disconnect() }
        return connect(deadline: monotonicNanos() + Int64(spec.batching.timeoutMs) * 1_000_000)
    }

    // MARK: The socket

    private func connect(deadline: Int64) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(spec.host, String(spec.port), &hints, &list)
        guard status == 0, let first = list else { return "cannot resolve \(spec.host): \(String(cString: gai_strerror(status)))" }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let address = next {
            next = address.pointee.ai_next
            let s = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard s >= 0 else { lastError = String(cString: strerror(errno)); continue }
            if Glibc.connect(s, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
                lastError = String(cString: strerror(errno)); Glibc.close(s); continue
            }
            guard wait(s, for: Int16(POLLOUT), deadline: deadline) else { lastError = "timed out"; Glibc.close(s); continue }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(s, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { lastError = String(cString: strerror(error)); Glibc.close(s); continue }
            fd = s
            reader = HJ212FrameReader()
            return nil
        }
        return "cannot connect to \(spec.host):\(spec.port): \(lastError)"
    }

    private func disconnect() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Waits until `fd` is ready for `events` or the deadline passes.
    private func wait(_ fd: Int32, for events: Int16, deadline: Int64) -> Bool {
        while true {
            let left = (deadline - monotonicNanos()) / 1_000_000
            guard left > 0 else { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, Int32(min(left, 60_000)))
            if n > 0 { return true }
            if n < 0 && errno != EINTR { return false }
        }
    }

    private func writeAll(_ bytes: [UInt8], deadline: Int64) -> String? {
        var sent = 0
        while sent < bytes.count {
            guard wait(fd, for: Int16(POLLOUT), deadline: deadline) else { return "timed out" }
            let n = retryingInterrupts { bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) } }
            if n < 0 {
                if errno == EAGAIN { continue }
                return String(cString: strerror(errno))
            }
            sent += n
            wireBytes.add(UInt64(n), ordering: .relaxed)
        }
        return nil
    }

    private func readSome(deadline: Int64) -> String? {
        guard wait(fd, for: Int16(POLLIN), deadline: deadline) else { return "no answer within \(spec.batching.timeoutMs) ms" }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = retryingInterrupts { chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } }
        if n == 0 { return "the platform closed the connection" }
        if n < 0 { return errno == EAGAIN ? nil : String(cString: strerror(errno)) }
        wireBytes.add(UInt64(n), ordering: .relaxed)
        reader.append(chunk[0..<n])
        return nil
    }
}

import CLinuxShims
import FoundationEssentials
import Glibc
import VigilCore

/// The `vigil` commands' side of the control socket.
public struct ControlClient: Sendable {
    public let socket: String

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public var code: Int32
        public init(description: String, code: Int32) { self.description = description; self.code = code }
    }

    public init(socket: String) { self.socket = socket }

    /// The socket to use: `--socket`, else $VIGIL_SOCKET, else the default.
    public static func socketPath(option: String?) -> String {
        option ?? getenv("VIGIL_SOCKET").map { String(cString: $0) } ?? ControlSpec.defaultSocket
    }

    /// Whether an agent answers on the socket.
    public var isReachable: Bool {
        let fd = CLinuxShims_connect_unix(socket)
        if fd >= 0 { close(fd) }
        return fd >= 0
    }

    public func send<T: Codable & Sendable>(_ request: ControlRequest, as _: T.Type = T.self) throws(Failure) -> T {
        let fd = CLinuxShims_connect_unix(socket)
        guard fd >= 0 else {
            let reason = String(cString: strerror(-fd))
            let hint = -fd == EACCES ? " (run as root, or join the group that owns it)" : " (is `vigil run` running, with this control socket?)"
            throw Failure(description: "cannot reach the agent at \(socket): \(reason)\(hint)", code: ControlCode.failed)
        }
        defer { close(fd) }
        // A scan of a whole line takes under a minute; an agent that says nothing for two is not answering.
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let body: Data
        do { body = try encoder.encode(request) } catch { throw Failure(description: "cannot encode the request: \(error)", code: ControlCode.failed) }
        writeAll(fd, Array(body) + [0x0A])
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !reply.contains(0x0A) {
            let n = retryingInterrupts { read(fd, &chunk, chunk.count) }
            if n < 0 && errno == EAGAIN { throw Failure(description: "the agent at \(socket) did not answer within 120 s", code: ControlCode.failed) }
            if n <= 0 { throw Failure(description: "the agent closed the connection without answering", code: ControlCode.failed) }
            reply += chunk[0..<n]
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let line = Data(reply[..<reply.firstIndex(of: 0x0A)!])
        let decoded: ControlReply<T>
        do { decoded = try decoder.decode(ControlReply<T>.self, from: line) } catch {
            throw Failure(description: "the agent's answer was not understood: \(error)", code: ControlCode.failed)
        }
        guard decoded.ok, let result = decoded.result else {
            throw Failure(description: decoded.error ?? "the agent refused", code: decoded.code ?? ControlCode.failed)
        }
        return result
    }

    /// Any Codable value as indented JSON, for `--json`.
    public static func json<T: Encodable>(_ value: T) -> String { json(value, formatting: [.prettyPrinted, .sortedKeys]) }

    /// One compact JSON document on one line, for output that repeats (JSON Lines).
    public static func jsonLine<T: Encodable>(_ value: T) -> String { json(value, formatting: [.sortedKeys]) }

    /// A file another program defines (a vendor's thing model): keys as the type spells them.
    public static func document<T: Encodable>(_ value: T) -> String {
        json(value, formatting: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes], keys: .useDefaultKeys)
    }

    private static func json<T: Encodable>(_ value: T, formatting: JSONEncoder.OutputFormatting,
                                           keys: JSONEncoder.KeyEncodingStrategy = .convertToSnakeCase) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = keys
        encoder.outputFormatting = formatting
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}

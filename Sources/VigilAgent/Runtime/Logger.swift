import Glibc
import Synchronization
import VigilCore

/// Log lines on stderr with sd-daemon priority prefixes (`<3>` error, `<4>`
/// warning, `<6>` info, `<7>` debug), so journald keeps the levels.
public final class Logger: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case error = 3, warning = 4, info = 6, debug = 7
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public var name: String { switch self { case .error: "error"; case .warning: "warning"; case .info: "info"; case .debug: "debug" } }
    }

    public let threshold: Level
    private let fd: Int32

    public init(threshold: Level = .info, fd: Int32 = STDERR_FILENO) {
        self.threshold = threshold
        self.fd = fd
    }

    public func log(_ level: Level, _ message: String) {
        guard level <= threshold else { return }
        writeAll(fd, "<\(level.rawValue)>\(message)\n")
    }

    public func error(_ message: String) { log(.error, message) }
    public func warning(_ message: String) { log(.warning, message) }
    public func info(_ message: String) { log(.info, message) }
    public func debug(_ message: String) { log(.debug, message) }
}

import Glibc
import Synchronization
import VigilCore

/// Log lines on stderr. Under journald (stderr is the stream $JOURNAL_STREAM
/// names) each line carries an sd-daemon priority prefix (`<3>` error, `<4>`
/// warning, `<6>` info, `<7>` debug), so journald keeps the levels and adds the
/// time itself; anywhere else (a terminal, a file, a test) each line starts with
/// its UTC time and level: `2026-12-01T14:45:03.123Z warning: …`.
public final class Logger: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case error = 3, warning = 4, info = 6, debug = 7
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public var name: String { switch self { case .error: "error"; case .warning: "warning"; case .info: "info"; case .debug: "debug" } }
    }

    public let threshold: Level
    private let fd: Int32
    private let toJournal: Bool
    private let clock: any WallClock

    public init(threshold: Level = .info, fd: Int32 = STDERR_FILENO, clock: any WallClock = RealtimeClock()) {
        self.threshold = threshold
        self.fd = fd
        self.clock = clock
        toJournal = Self.isJournalStream(fd)
    }

    public var isDebugEnabled: Bool { threshold >= .debug }

    public func log(_ level: Level, _ message: @autoclosure () -> String) {
        guard level <= threshold else { return }
        if toJournal {
            writeAll(fd, "<\(level.rawValue)>\(message())\n")
        } else {
            writeAll(fd, "\(clock.now().iso8601) \(level.name): \(message())\n")
        }
    }

    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }

    /// systemd sets JOURNAL_STREAM=DEVICE:INODE for a service whose stderr goes
    /// to journald; a redirected stderr (`vigil run 2>file`) is not that stream.
    static func isJournalStream(_ fd: Int32) -> Bool {
        guard let value = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
        let parts = value.split(separator: ":")
        var st = stat()
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]), fstat(fd, &st) == 0 else { return false }
        return UInt64(st.st_dev) == device && UInt64(st.st_ino) == inode
    }
}

import CLinuxShims
import Glibc
import VigilCore

/// sd_notify without libsystemd: datagrams to `$NOTIFY_SOCKET` (a path, or
/// `@name` for an abstract socket), and the watchdog interval from
/// `$WATCHDOG_USEC` when `$WATCHDOG_PID` is unset or ours.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?
    public let watchdogMicroseconds: Int64?

    public init(socketPath: String?, watchdogMicroseconds: Int64?) {
        self.socketPath = socketPath
        self.watchdogMicroseconds = watchdogMicroseconds
    }

    public static func fromEnvironment() -> SystemdNotifier {
        func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        var watchdog = env("WATCHDOG_USEC").flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil }
        if let pid = env("WATCHDOG_PID").flatMap({ Int32($0) }), pid != getpid() { watchdog = nil }
        let socket = env("NOTIFY_SOCKET").flatMap { $0.isEmpty ? nil : $0 }
        return SystemdNotifier(socketPath: socket, watchdogMicroseconds: watchdog)
    }

    /// How often to send WATCHDOG=1: half of systemd's timeout.
    public var watchdogPingSeconds: Double? { watchdogMicroseconds.map { Double($0) / 2e6 } }

    /// Sends `NAME=value` lines; returns an error text, nil on success (or with no socket).
    @discardableResult
    public func notify(_ state: String) -> String? {
        guard let socketPath else { return nil }
        let rc = state.withCString { CLinuxShims_send_unix_datagram(socketPath, $0, UInt(strlen($0))) }
        return rc == 0 ? nil : "sd_notify to \(socketPath): \(String(cString: strerror(-rc)))"
    }

    /// `RELOADING=1` with the monotonic time systemd wants beside it.
    public func notifyReloading() {
        notify("RELOADING=1\nMONOTONIC_USEC=\(monotonicNanos() / 1000)")
    }
}

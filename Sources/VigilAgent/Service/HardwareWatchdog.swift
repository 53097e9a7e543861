import CLinuxShims
import Glibc
import VigilCore

/// A Linux hardware watchdog (`/dev/watchdog`): once opened it resets the
/// board unless fed within its timeout. Fed only while the supervisor says the
/// agent is healthy; the magic 'V' is written only on an orderly stop, so a
/// crash or a hang ends in a reset.
public final class HardwareWatchdog: @unchecked Sendable {
    public let device: String
    private let fd: Int32
    public private(set) var keepAlives = 0
    /// When the device refused the ioctls (a plain file in tests): writes alone feed it.
    public private(set) var ioctlError: String?

    public init(device: String, timeoutSeconds: Int) throws(FileError) {
        self.device = device
        let fd = retryingInterrupts { open(device, O_WRONLY | O_CLOEXEC) }
        if fd < 0 { throw FileError(operation: "open watchdog", path: device, errno: errno) }
        self.fd = fd
        let rc = CLinuxShims_watchdog_set_timeout(fd, Int32(timeoutSeconds))
        if rc != 0 { ioctlError = "WDIOC_SETTIMEOUT: \(String(cString: strerror(-rc)))" }
    }

    /// Feeds the watchdog: any write does, on every driver. Returns the error
    /// when the write failed (the board will reset unless a later one works).
    public func keepAlive() -> String? {
        if let error = writeAll(fd, [UInt8(ascii: "k")]) { return "\(device): keep-alive failed: \(String(cString: strerror(error)))" }
        keepAlives += 1
        return nil
    }

    /// An orderly stop: the magic 'V' disarms the watchdog before closing.
    /// Returns the error when it could not be written (the board will reset).
    public func closeCleanly() -> String? {
        defer { close(fd) }
        guard let error = writeAll(fd, [UInt8(ascii: "V")]) else { return nil }
        return "\(device): the magic close failed (\(String(cString: strerror(error)))): the board resets when the timeout runs out"
    }
}

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
        let fd = open(device, O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw FileError(operation: "open watchdog", path: device, errno: errno) }
        self.fd = fd
        let rc = CLinuxShims_watchdog_set_timeout(fd, Int32(timeoutSeconds))
        if rc != 0 { ioctlError = "WDIOC_SETTIMEOUT: \(String(cString: strerror(-rc)))" }
    }

    /// Feeds the watchdog: any write does, on every driver.
    public func keepAlive() {
        var byte = UInt8(ascii: "k")
        _ = write(fd, &byte, 1)
        keepAlives += 1
    }

    /// An orderly stop: the magic 'V' disarms the watchdog before closing.
    public func closeCleanly() {
        var byte = UInt8(ascii: "V")
        _ = write(fd, &byte, 1)
        close(fd)
    }
}

import CLinuxShims
import Glibc
import Synchronization
import VigilCore

/// Wakes a thread that sleeps in `sleep(untilMonotonic:)`, from any thread.
public final class WakeSignal: @unchecked Sendable {
    private var fds: [Int32] = [-1, -1]

    public init() {
        let rc = pipe(&fds)
        precondition(rc == 0, "pipe failed")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
    }

    deinit { close(fds[0]); close(fds[1]) }

    public func wake() {
        var byte: UInt8 = 1
        _ = write(fds[1], &byte, 1)
    }

    /// Sleeps until the monotonic deadline or a wake; returns true when woken.
    @discardableResult
    public func sleep(untilMonotonic deadline: Int64, now: Int64) -> Bool {
        let remaining = deadline - now
        if remaining <= 0 { return drain() }
        // poll() counts milliseconds: round up so a sleep never ends early.
        let ms = Int32(min((remaining + 999_999) / 1_000_000, Int64(Int32.max)))
        var entry = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
        let n = poll(&entry, 1, ms)
        return n > 0 ? drain() : false
    }

    private func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64)
        var woke = false
        while read(fds[0], &buffer, buffer.count) > 0 { woke = true }
        return woke
    }
}

/// A long-running part's thread and its stop flag: `start` runs the body on a
/// dedicated thread; `stop` raises the flag, lets the caller wake the body,
/// and waits for it to end.
public final class StoppableThread: Sendable {
    private let stopRequested = Atomic<Bool>(false)
    private let thread = Mutex<DedicatedThread?>(nil)

    public init() {}

    /// True once `stop` was called: the body should return soon.
    public var isStopping: Bool { stopRequested.load(ordering: .acquiring) }

    public func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let t = DedicatedThread(name: name, body: body)
        thread.withLock { $0 = t }
        t.start()
    }

    public func stop(wake: () -> Void = {}) {
        stopRequested.store(true, ordering: .releasing)
        wake()
        let t = thread.withLock { t in defer { t = nil }; return t }
        t?.join()
    }
}

import CLinuxShims
import Glibc

/// A POSIX thread of its own, for work that blocks in C calls (libmodbus,
/// serial I/O, fsync) and so must stay off Swift's cooperative pool.
public final class DedicatedThread: @unchecked Sendable {
    private var thread: pthread_t?
    private let body: @Sendable () -> Void
    public let name: String

    private final class Box {
        let name: String
        let body: @Sendable () -> Void
        init(_ name: String, _ body: @escaping @Sendable () -> Void) { self.name = name; self.body = body }
    }

    public init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }

    public func start() {
        let box = Unmanaged.passRetained(Box(name, body)).toOpaque()
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            CLinuxShims_set_thread_name(String(box.name.prefix(15)))
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        thread = t
    }

    /// Starts a thread nobody joins (a control connection): it frees itself when done.
    public func startDetached() {
        start()
        if let t = thread { pthread_detach(t); thread = nil }
    }

    public func join() {
        if let t = thread { pthread_join(t, nil); thread = nil }
    }

    /// Waits at most `seconds` for the thread to end; false when it is still
    /// running (stuck in a blocking C call): it is detached and left to end on its own.
    public func join(waitingAtMost seconds: Double) -> Bool {
        guard let t = thread else { return true }
        thread = nil
        if CLinuxShims_join_within(t, seconds) == 0 { return true }
        pthread_detach(t)
        return false
    }
}

import Glibc
import VigilCore

/// State shared between a network thread and its callers, with a condition to
/// wait on for it to change (a PUBACK, a CONNACK, a lost connection).
final class Monitor<State>: @unchecked Sendable {
    private var state: State
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(_ state: State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC) // deadlines are monotonic
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition); pthread_mutex_destroy(mutex)
        condition.deallocate(); mutex.deallocate()
    }

    /// Changes the state and wakes every waiter.
    @discardableResult
    func update<R>(_ body: (inout State) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_cond_broadcast(condition); pthread_mutex_unlock(mutex) }
        return body(&state)
    }

    func read<R>(_ body: (State) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(state)
    }

    /// Waits until `done` holds or the monotonic deadline passes; returns
    /// `body` of the state at that moment.
    func wait<R>(until done: (State) -> Bool, deadlineNanos: Int64, _ body: (State) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !done(state) {
            let now = monotonicNanos()
            if now >= deadlineNanos { break }
            var until = timespec(tv_sec: Int(deadlineNanos / 1_000_000_000), tv_nsec: Int(deadlineNanos % 1_000_000_000))
            _ = pthread_cond_timedwait(condition, mutex, &until)
        }
        return body(state)
    }
}

import Synchronization
import VigilCore

/// Lets a repeated message through once per interval per key, with how many
/// were held back: a dead device fails every poll, the log gets a line a minute.
public final class RepeatLimiter: Sendable {
    private struct Entry { var lastShown: Int64; var suppressed: Int; var message: String }
    private let entries = Mutex<[String: Entry]>([:])
    private let intervalNanos: Int64

    public init(intervalSeconds: Double) { intervalNanos = Int64(intervalSeconds * 1e9) }

    /// The line to log now, or nil to stay quiet.
    public func admit(key: String, message: String, now: Int64 = monotonicNanos()) -> String? {
        entries.withLock { all in
            guard var entry = all[key] else {
                all[key] = Entry(lastShown: now, suppressed: 0, message: message)
                return message
            }
            if now - entry.lastShown < intervalNanos && entry.message == message {
                entry.suppressed += 1
                all[key] = entry
                return nil
            }
            let line = entry.suppressed > 0 ? "\(message) (and \(entry.suppressed) more like it since)" : message
            all[key] = Entry(lastShown: now, suppressed: 0, message: message)
            return line
        }
    }
}

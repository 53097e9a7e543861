import Synchronization
import VigilCore

/// What the uplink put on the wire, per day, kept in `state_dir/uplink-traffic`
/// across restarts, so `vigil status` can say what the SIM costs: the uplink's own
/// count (`Uplink.bytesOnTheWire`) sampled into a `TrafficLedger`. Saved once a
/// minute and at an orderly stop: a crash loses at most a minute of counting,
/// never data.
public final class TrafficMeter: Sendable {
    public let file: String
    private let counter: @Sendable () -> UInt64
    private let state: Mutex<(ledger: TrafficLedger, seen: UInt64)>
    private let log: Logger

    public init(file: String, counter: @escaping @Sendable () -> UInt64, log: Logger) {
        self.file = file
        self.counter = counter
        self.log = log
        var ledger = TrafficLedger()
        if fileExists(file) {
            do {
                ledger = TrafficLedger(parsing: try readTextFile(file))
                if ledger.unreadableLines > 0 { log.warning("\(file): \(ledger.unreadableLines) damaged line(s) skipped; those days' counts are lost") }
            } catch {
                log.warning("\(file): \(error); counting upstream bytes from zero")
            }
        }
        state = Mutex((ledger, counter()))
    }

    /// Adds what the uplink sent since the last sample to the day it is now.
    public func sample(at time: WallTime = SystemClock.shared.now()) {
        let now = counter()
        state.withLock { s in
            s.ledger.add(now >= s.seen ? now - s.seen : now, at: time)
            s.seen = now
        }
    }

    public func totals(at time: WallTime = SystemClock.shared.now()) -> (today: UInt64, last30Days: UInt64) {
        sample(at: time)
        return state.withLock { ($0.ledger.today(at: time), $0.ledger.last30Days(at: time)) }
    }

    public func save() {
        sample()
        let text = state.withLock { $0.ledger.text }
        do { try FileSystem.replaceAtomically(file, with: Array(text.utf8)) } catch { log.warning("uplink traffic: \(error)") }
    }
}

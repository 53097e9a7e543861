import Synchronization
import VigilCore
import VigilModbus

/// The last requests and answers on one bus, for `vigil diag frames`. A poll
/// stores what it already has (no formatting); hex is made when asked.
public final class FrameLog: Sendable {
    struct Entry {
        var probe: ModbusProbe
        var words: [UInt16]?
        var bits: [Bool]?
        var failure: ModbusError?
        var milliseconds: Double
        var time: WallTime
        var origin: String
    }

    private let ring = Mutex<(entries: [Entry], next: Int)>(([], 0))
    let capacity: Int

    public init(capacity: Int = 64) { self.capacity = capacity }

    func record(_ entry: Entry) {
        ring.withLock { r in
            if r.entries.count < capacity { r.entries.append(entry) } else { r.entries[r.next] = entry }
            r.next = (r.next + 1) % capacity
        }
    }

    /// Oldest first.
    public var frames: [FrameRecord] {
        let (entries, next) = ring.withLock { ($0.entries, $0.next) }
        let ordered = entries.count < capacity ? entries : Array(entries[next...] + entries[..<next])
        return ordered.map { e in
            let a = ProbeRunner.answer(e.probe, words: e.words, bits: e.bits, failure: e.failure, ms: e.milliseconds, path: "")
            return FrameRecord(time: e.time.iso8601, unit: e.probe.unit, request: a.request, response: a.response, error: a.error,
                               milliseconds: e.milliseconds, origin: e.origin)
        }
    }
}

import Synchronization
import VigilCore
import VigilModbus

/// The last requests and answers on one bus, for `vigil diag frames`. A poll
/// stores what it already has (no formatting); hex is made when asked — or at
/// once, as a debug line, when the agent runs with `--log-level debug` (the
/// per-request trace a technician asks for on a misbehaving line).
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

    private let trace: Logger?
    private let bus: String

    public init(capacity: Int = 64, trace: Logger? = nil, bus: String = "") {
        self.capacity = capacity
        self.trace = trace
        self.bus = bus
    }

    func record(_ entry: Entry) {
        ring.withLock { r in
            if r.entries.count < capacity { r.entries.append(entry) } else { r.entries[r.next] = entry }
            r.next = (r.next + 1) % capacity
        }
        if let trace { trace.debug(Self.traceLine(Self.frameRecord(entry), bus: bus)) }
    }

    /// `bus rs485 unit 3 (gas-1): 03 00 00 00 0B -> 03 16 … in 12.4 ms`.
    static func traceLine(_ f: FrameRecord, bus: String) -> String {
        let answer = f.error.map { "\(f.response.map { "\($0) " } ?? "")(\($0))" } ?? f.response ?? "(none)"
        return "bus \(bus) unit \(f.unit) (\(f.origin)): \(f.request) -> \(answer) in \(String(format1: f.milliseconds)) ms"
    }

    private static func frameRecord(_ e: Entry) -> FrameRecord {
        let a = ProbeRunner.answer(e.probe, words: e.words, bits: e.bits, failure: e.failure, ms: e.milliseconds, path: "")
        return FrameRecord(time: e.time.iso8601, unit: e.probe.unit, request: a.request, response: a.response, error: a.error,
                           milliseconds: e.milliseconds, origin: e.origin)
    }

    /// Oldest first.
    public var frames: [FrameRecord] {
        let (entries, next) = ring.withLock { ($0.entries, $0.next) }
        let ordered = entries.count < capacity ? entries : Array(entries[next...] + entries[..<next])
        return ordered.map(Self.frameRecord)
    }
}

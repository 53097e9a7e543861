import Synchronization
import VigilCore

/// A device as its bus worker sees it: its spec, its read plan and decoder,
/// its schedule and its health.
struct PolledDevice {
    let spec: DeviceSpec
    let decoder: PointDecoder
    var schedule: FixedRateSchedule
    var health: DeviceHealth
    /// Per point, what each reading repeats (kept apart so a poll copies no PointSpec).
    private let pointIDs: [String]
    private let units: [String?]
    private let modePoint: Int?
    private let heartbeat: HeartbeatWatch?

    /// Mode labels during which the detector is not measuring: readings are flagged, no alarm.
    static let suppressingModes: Set<String> = ["warm-up", "inhibit", "calibration"]

    init(spec: DeviceSpec, bus: BusSpec, firstDue: Int64) {
        self.spec = spec
        let blocks = ReadPlanner.plan(spec.points, maxRegisters: bus.maxRegisters, maxGap: spec.maxGap)
        decoder = PointDecoder(points: spec.points, blocks: blocks)
        schedule = FixedRateSchedule(intervalNanos: Int64(spec.intervalMs) * 1_000_000, firstDue: firstDue)
        health = DeviceHealth(offlineAfter: spec.offlineAfter)
        pointIDs = spec.points.map(\.id)
        units = spec.points.map(\.unit)
        modePoint = spec.points.firstIndex { $0.role == .mode }
        heartbeat = spec.points.firstIndex { $0.role == .heartbeat }.map { HeartbeatWatch(point: $0) }
    }

    /// One reading per point from the decoded values of one poll. Runs on the
    /// record pipeline's thread, one poll after another.
    func readings(_ decoded: [DecodedPoint], at time: WallTime) -> [Record] {
        let mode = modePoint.flatMap { decoded[$0].label.flatMap { Self.suppressingModes.contains($0) ? $0 : nil } }
        let stale = heartbeat?.isStale(decoded, at: time.milliseconds) ?? false
        return decoded.indices.map { i in
            let d = decoded[i]
            return .reading(Reading(timestamp: time, device: spec.id, point: pointIDs[i], value: d.value, raw: d.raw,
                                    unit: units[i], label: d.label, quality: !d.isGood ? .bad : stale ? .stale : .good,
                                    error: d.error ?? (stale ? "heartbeat register not advancing" : nil), mode: mode))
        }
    }
}

/// A detector's heartbeat register: when it stops advancing for `staleAfterMs`,
/// the device's readings are `stale` (the detector answers, but is stuck).
final class HeartbeatWatch: Sendable {
    let point: Int
    static let staleAfterMs: Int64 = 30_000
    private let state = Mutex<(raw: String, since: Int64)?>(nil)

    init(point: Int) { self.point = point }

    func isStale(_ decoded: [DecodedPoint], at ms: Int64) -> Bool {
        guard decoded[point].isGood else { return false }
        let raw = decoded[point].raw
        return state.withLock { s in
            guard let last = s, last.raw == raw else {
                s = (raw, ms)
                return false
            }
            return ms - last.since > Self.staleAfterMs
        }
    }
}

import Synchronization

/// Turns one poll's decoded values into the device's readings: quality (bad when the
/// block failed, stale when the detector's heartbeat register stopped advancing),
/// and the mode the detector is in when it is not measuring (warm-up, inhibit,
/// calibration: readings flagged, no alarm). Called on the record pipeline's
/// thread, one poll after another.
public struct PollReadings: Sendable {
    /// Mode labels during which the detector is not measuring.
    public static let suppressingModes: Set<String> = ["warm-up", "inhibit", "calibration"]

    private let device: String
    /// Per point, what each reading repeats (kept apart so a poll copies no PointSpec).
    private let pointIDs: [String]
    private let units: [String?]
    private let modePoint: Int?
    private let heartbeat: HeartbeatWatch?

    public init(_ spec: DeviceSpec) {
        device = spec.id
        pointIDs = spec.points.map(\.id)
        units = spec.points.map(\.unit)
        modePoint = spec.points.firstIndex { $0.role == .mode }
        heartbeat = spec.points.firstIndex { $0.role == .heartbeat }.map { HeartbeatWatch(point: $0) }
    }

    public func readings(_ decoded: [DecodedPoint], at time: WallTime) -> [Record] {
        let mode = modePoint.flatMap { decoded[$0].label.flatMap { Self.suppressingModes.contains($0) ? $0 : nil } }
        let stale = heartbeat?.isStale(decoded, at: time.milliseconds) ?? false
        return decoded.indices.map { i in
            let d = decoded[i]
            return .reading(Reading(timestamp: time, device: device, point: pointIDs[i], value: d.value, raw: d.raw,
                                    unit: units[i], label: d.label, quality: !d.isGood ? .bad : stale ? .stale : .good,
                                    error: d.error ?? (stale ? "heartbeat register not advancing" : nil), mode: mode))
        }
    }
}

/// A detector's heartbeat register: when it stops advancing for `staleAfterMs`,
/// the device's readings are `stale` (the detector answers, but is stuck).
public final class HeartbeatWatch: Sendable {
    public let point: Int
    public static let staleAfterMs: Int64 = 30_000
    private let state = Mutex<(raw: RawRegisters, since: Int64)?>(nil)

    public init(point: Int) { self.point = point }

    public func isStale(_ decoded: [DecodedPoint], at ms: Int64) -> Bool {
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

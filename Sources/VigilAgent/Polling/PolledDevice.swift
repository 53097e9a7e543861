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

    init(spec: DeviceSpec, bus: BusSpec, firstDue: Int64) {
        self.spec = spec
        let blocks = ReadPlanner.plan(spec.points, maxRegisters: bus.maxRegisters, maxGap: spec.maxGap)
        decoder = PointDecoder(points: spec.points, blocks: blocks)
        schedule = FixedRateSchedule(intervalNanos: Int64(spec.intervalMs) * 1_000_000, firstDue: firstDue)
        health = DeviceHealth(offlineAfter: spec.offlineAfter)
        pointIDs = spec.points.map(\.id)
        units = spec.points.map(\.unit)
    }

    /// One reading per point from the decoded values of one poll.
    func readings(_ decoded: [DecodedPoint], at time: WallTime) -> [Record] {
        decoded.indices.map { i in
            let d = decoded[i]
            return .reading(Reading(timestamp: time, device: spec.id, point: pointIDs[i], value: d.value, raw: d.raw,
                                    unit: units[i], label: d.label, quality: d.isGood ? .good : .bad, error: d.error))
        }
    }
}

import VigilCore

/// A device as its bus worker sees it: its spec, its read plan and decoder,
/// its schedule and its health.
struct PolledDevice {
    let spec: DeviceSpec
    let decoder: PointDecoder
    var schedule: FixedRateSchedule
    var health: DeviceHealth

    init(spec: DeviceSpec, bus: BusSpec, firstDue: Int64) {
        self.spec = spec
        let blocks = ReadPlanner.plan(spec.points, maxRegisters: bus.maxRegisters, maxGap: spec.maxGap)
        decoder = PointDecoder(points: spec.points, blocks: blocks)
        schedule = FixedRateSchedule(intervalNanos: Int64(spec.intervalMs) * 1_000_000, firstDue: firstDue)
        health = DeviceHealth(offlineAfter: spec.offlineAfter)
    }

    /// One reading per point from the decoded values of one poll.
    func readings(_ decoded: [DecodedPoint], at time: WallTime) -> [Record] {
        zip(spec.points, decoded).map { point, d in
            .reading(Reading(timestamp: time, device: spec.id, point: point.id, value: d.value, raw: d.raw,
                             unit: point.unit, label: d.label, quality: d.isGood ? .good : .bad, error: d.error))
        }
    }
}

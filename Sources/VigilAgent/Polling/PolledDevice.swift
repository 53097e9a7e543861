import VigilCore

/// A device as its bus worker sees it: its spec, its read plan and decoder,
/// its schedule, its health, and how a poll becomes readings (`PollReadings`).
struct PolledDevice {
    let spec: DeviceSpec
    let decoder: PointDecoder
    let readings: PollReadings
    var schedule: FixedRateSchedule
    var health: DeviceHealth

    init(spec: DeviceSpec, bus: BusSpec, firstDue: Int64) {
        self.spec = spec
        let blocks = ReadPlanner.plan(spec.points, maxRegisters: bus.maxRegisters, maxGap: spec.maxGap)
        decoder = PointDecoder(points: spec.points, blocks: blocks)
        readings = PollReadings(spec)
        schedule = FixedRateSchedule(intervalNanos: Int64(spec.intervalMs) * 1_000_000, firstDue: firstDue)
        health = DeviceHealth(offlineAfter: spec.offlineAfter)
    }
}

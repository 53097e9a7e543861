extension BusSpec {
    /// The longest one round of a bus worker's work may take before the supervisor
    /// calls it stuck: the slowest device's poll (every block retried to its timeout,
    /// with gaps), opening the port (one more timeout), a second of sleep, and 5 s of slack.
    public func workerDeadlineSeconds(polling devices: [DeviceSpec]) -> Double {
        let slowestPoll = devices.map { device -> Double in
            let blocks = Double(ReadPlanner.plan(device.points, maxRegisters: maxRegisters, maxGap: device.maxGap).count)
            return blocks * Double(retries + 1) * (Double(timeoutMs) + gapMs) / 1000
        }.max() ?? 0
        return slowestPoll + Double(timeoutMs) / 1000 + 1 + 5
    }
}

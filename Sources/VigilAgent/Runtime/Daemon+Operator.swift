import VigilCore

/// What a technician may do to a running agent (through the control socket):
/// every action is journaled as an event naming who did it.
extension Daemon {
    /// Forces an output on or off; nil hands it back to the action rules.
    public func override(output: String, _ value: Bool?, by who: String) throws(OutputError) -> [Event] {
        guard let gpio else { throw OutputError.unknown(output, known: []) }
        let events = try gpio.outputs.override(output, value, by: who, at: SystemClock.shared.now())
        sink.write(events)
        return events
    }

    /// Releases the latched actions holding an output.
    public func resetLatch(output: String, by who: String) throws(OutputError) -> [Event] {
        guard let gpio else { throw OutputError.unknown(output, known: []) }
        let events = try gpio.outputs.resetLatch(output, by: who, at: SystemClock.shared.now())
        sink.write(events)
        return events
    }

    /// Acknowledges an active alarm; returns nothing when no such alarm is active and unacknowledged.
    public func acknowledge(device: String, point: String, level: AlarmLevel, by who: String) -> [Event] {
        sink.acknowledge(device: device, point: point, level: level, by: who)
    }
}

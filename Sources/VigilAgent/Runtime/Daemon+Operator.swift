import VigilCore

/// What a technician may do to a running agent (through the control socket):
/// every action is journaled as an event naming who did it.
extension Daemon {
    /// Forces an output on or off; nil hands it back to the action rules.
    public func override(output: String, _ value: Bool?, by who: String) throws(OutputError) -> [Event] {
        guard gpio != nil else { throw OutputError.unknown(output, known: []) }
        return try sink.changeOutputs { (outputs, active) throws(OutputError) in
            try outputs.override(output, value, by: who, active: active, at: SystemClock.shared.now())
        }
    }

    /// Releases the latched actions holding an output.
    public func resetLatch(output: String, by who: String) throws(OutputError) -> [Event] {
        guard gpio != nil else { throw OutputError.unknown(output, known: []) }
        return try sink.changeOutputs { (outputs, active) throws(OutputError) in
            try outputs.resetLatch(output, by: who, active: active, at: SystemClock.shared.now())
        }
    }

    /// Acknowledges an active alarm; returns nothing when no such alarm is active and unacknowledged.
    public func acknowledge(device: String, point: String, level: AlarmLevel, by who: String) -> [Event] {
        sink.acknowledge(device: device, point: point, level: level, by: who)
    }
}

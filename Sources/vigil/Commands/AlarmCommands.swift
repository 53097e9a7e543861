import VigilAgent

struct AlarmsCommand: Command {
    static let name = "alarms"
    static let summary = "active alarms, and the recent alarm and output events"
    static let usage = """
        vigil alarms [--json] [--socket PATH]
        \(ControlOptions.usage)
        """

    var options: ControlOptions
    init(_ arguments: inout Arguments) throws(UsageError) { options = try ControlOptions(&arguments) }

    func run() -> Int32 {
        options.run(ControlRequest("alarms"), as: AlarmsReport.self) { r in
            var active = Table("ACTIVE ALARM", "SEVERITY", "SETPOINT", "LATCHING", "DEVICE")
            for a in r.active {
                active.add(a.id, a.severity ?? "-", format(a.setpoint), a.latched ? "yes" : "no", a.deviceOffline ? "OFFLINE: last known state" : "online")
            }
            var recent = Table("TIME", "EVENT", "DEVICE", "POINT", "LEVEL", "VALUE", "DETAIL")
            for e in r.recent.suffix(20) {
                recent.add(e.time, e.event, e.device ?? "-", e.point ?? "-", e.level ?? "-", e.value.map(format) ?? "-", e.detail ?? "")
            }
            return (r.active.isEmpty ? "no active alarms" : active.text) + "\n\n" + (r.recent.isEmpty ? "no recent alarm events" : recent.text)
        }
    }
}

struct AlarmAckCommand: Command {
    static let name = "alarm ack"
    static let summary = "acknowledge an alarm (a latched one clears if its cause is gone)"
    static let usage = """
        vigil alarm ack DEVICE/POINT/LEVEL [--json] [--socket PATH]

        The id as `vigil alarms` lists it. The agent logs who acknowledged.
        \(ControlOptions.usage)
        """

    var options: ControlOptions
    var alarm: String

    init(_ arguments: inout Arguments) throws(UsageError) {
        options = try ControlOptions(&arguments)
        guard let alarm = arguments.positional() else { throw UsageError("which alarm? (DEVICE/POINT/LEVEL, see vigil alarms)") }
        self.alarm = alarm
    }

    func run() -> Int32 {
        var request = ControlRequest("alarm.ack")
        request.alarm = alarm
        return options.run(request, as: ActionReport.self) { r in
            r.events.map { "\($0.event) \($0.device ?? "") \($0.point ?? $0.detail ?? "") \($0.level ?? "")" }.joined(separator: "\n")
        }
    }
}

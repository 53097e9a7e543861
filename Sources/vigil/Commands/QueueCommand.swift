import VigilAgent
import VigilCore

struct QueueCommand: Command {
    static let name = "queue"
    static let summary = "the journal's backlog: stats, the next records, dead letters"
    static let usage = """
        vigil queue                              what waits in the journal
        vigil queue peek [N]                     the next N records to be sent (default 10), events first
        vigil queue dead-letters                 batches the upstream refused for good
        vigil queue dead-letters retry NAME      post one again (it keeps its batch id)
        vigil queue dead-letters delete NAME --yes
        \(ControlOptions.usage)
        """

    enum Action { case stats, peek(Int), deadLetters, retry(String), delete(String) }
    var options: ControlOptions
    var action: Action

    init(_ arguments: inout Arguments) throws(UsageError) {
        options = try ControlOptions(&arguments)
        let yes = arguments.flag("--yes")
        switch arguments.positional() {
        case nil: action = .stats
        case "peek": action = .peek(try Arguments.number(arguments.positional(), "N") ?? 10)
        case "dead-letters":
            switch arguments.positional() {
            case nil: action = .deadLetters
            case "retry":
                guard let name = arguments.positional() else { throw UsageError("which dead letter? (see vigil queue dead-letters)") }
                action = .retry(name)
            case "delete":
                guard let name = arguments.positional() else { throw UsageError("which dead letter? (see vigil queue dead-letters)") }
                guard yes else { throw UsageError("deleting a dead letter loses its readings: add --yes") }
                action = .delete(name)
            case let other?: throw UsageError("dead-letters: unknown action '\(other)' (retry or delete)")
            }
        case let other?: throw UsageError("unknown action '\(other)' (peek or dead-letters)")
        }
    }

    func run() -> Int32 {
        switch action {
        case .stats:
            return options.run(ControlRequest("queue"), as: StatusReport.Queue.self) { q in
                var t = Table("LANE", "PENDING", "DROPPED")
                t.add("events", "\(q.pendingEvents)", "\(q.droppedEvents)")
                t.add("telemetry", "\(q.pendingTelemetry)", "\(q.droppedTelemetry)")
                return t.text + "\n\(q.bytes / 1024) KiB on disk; oldest pending \(age(q.oldestPendingAgeSeconds)); \(q.corruptRecords) corrupt records skipped; last seq \(q.lastSeq)"
            }
        case .peek(let n):
            var request = ControlRequest("queue.peek")
            request.count = n
            return options.run(request, as: QueuePeekReport.self) { r in
                r.records.isEmpty ? "nothing pending" : r.records.map(\.json).joined(separator: "\n")
            }
        case .deadLetters, .retry, .delete:
            var request = ControlRequest("dead-letters")
            if case .retry(let name) = action { request.command = "dead-letters.retry"; request.name = name }
            if case .delete(let name) = action { request.command = "dead-letters.delete"; request.name = name }
            return options.run(request, as: DeadLetterReport.self) { r in
                var t = Table("NAME", "BYTES", "REFUSED AT")
                for l in r.letters { t.add(l.name, "\(l.bytes)", l.modified) }
                return (r.done.map { "\($0)\n" } ?? "") + (r.letters.isEmpty ? "no dead letters in \(r.directory)" : t.text)
            }
        }
    }
}

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
            var active = Table("ACTIVE ALARM", "SEVERITY", "SETPOINT", "LATCHING")
            for a in r.active { active.add(a.id, a.severity ?? "-", format(a.setpoint), a.latched ? "yes" : "no") }
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

struct UplinkTestCommand: Command {
    static let name = "uplink test"
    static let summary = "one request to the upstream: name resolution, TLS, HTTP status, latency"
    static let usage = """
        vigil uplink test [--json] [--socket PATH]

        The agent posts one heartbeat with its own settings (URL, token, CA, client
        certificate) on a connection of its own, and reports each step's time.
        \(ControlOptions.usage)
        """

    var options: ControlOptions
    init(_ arguments: inout Arguments) throws(UsageError) { options = try ControlOptions(&arguments) }

    func run() -> Int32 {
        do {
            let r = try options.client.send(ControlRequest("uplink.test"), as: UplinkTestReport.self)
            if options.json {
                say(ControlClient.json(r))
            } else {
                var t = Table("STEP", "DONE AFTER")
                t.add("name resolution", String(format1: r.nameLookupMs) + " ms")
                t.add("TCP connect", String(format1: r.connectMs) + " ms")
                t.add("TLS handshake", r.tlsMs > 0 ? String(format1: r.tlsMs) + " ms" : "- (no TLS)")
                t.add("answer", String(format1: r.totalMs) + " ms")
                say("\(r.url)\n" + t.text + "\nHTTP \(r.httpStatus.map { "\($0)" } ?? "-"): \(r.outcome)\(r.error.map { " (\($0))" } ?? "")")
            }
            return r.outcome == "delivered" ? ExitCode.ok : ExitCode.device
        } catch {
            printError("vigil: \(error)")
            return error.code
        }
    }
}

struct GPIOCommand: Command {
    static let name = "gpio"
    static let summary = "the gateway's inputs and relays; set or reset an output"
    static let usage = """
        vigil gpio                               inputs (level, quality) and outputs (state, override)
        vigil gpio set OUTPUT on|off|auto --yes  force an output; auto hands it back to the action rules
        vigil gpio reset OUTPUT --yes            release an output's latched actions
        \(ControlOptions.usage)
        The agent logs who changed what; each switch is an output_changed event.
        """

    var options: ControlOptions
    var request = ControlRequest("gpio")

    init(_ arguments: inout Arguments) throws(UsageError) {
        options = try ControlOptions(&arguments)
        let yes = arguments.flag("--yes")
        switch arguments.positional() {
        case nil: break
        case "set":
            guard let output = arguments.positional(), let state = arguments.positional() else { throw UsageError("set OUTPUT on|off|auto") }
            guard ["on", "off", "auto"].contains(state) else { throw UsageError("state: expected on, off or auto") }
            request = ControlRequest("gpio.set")
            request.output = output
            request.state = state
        case "reset":
            guard let output = arguments.positional() else { throw UsageError("reset OUTPUT") }
            request = ControlRequest("gpio.reset")
            request.output = output
        case let other?: throw UsageError("unknown action '\(other)' (set or reset)")
        }
        if request.command != "gpio" && !yes { throw UsageError("this switches a relay on site: add --yes") }
    }

    func run() -> Int32 {
        if request.command != "gpio" {
            return options.run(request, as: ActionReport.self) { r in
                r.events.isEmpty ? "no change" : r.events.compactMap(\.detail).joined(separator: "\n")
            }
        }
        return options.run(request, as: GPIOReport.self) { r in
            var inputs = Table("INPUT", "LINE", "ACTIVE", "QUALITY", "ERROR")
            for i in r.inputs { inputs.add(i.id, i.line, i.active.map { $0 ? "yes" : "no" } ?? "-", i.quality ?? "-", i.error ?? "") }
            var outputs = Table("OUTPUT", "LINE", "STATE", "SAFE STATE", "OVERRIDE", "ERROR")
            for o in r.outputs { outputs.add(o.id, o.line, o.state, o.safeState, o.overridden ? "yes" : "no", o.error ?? "") }
            return (r.inputs.isEmpty ? "no inputs configured" : inputs.text) + "\n\n" + (r.outputs.isEmpty ? "no outputs configured" : outputs.text)
                + "\n\nstatus LED: \(r.statusLED ?? "none")"
        }
    }
}

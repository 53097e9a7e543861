import VigilAgent

struct GPIOCommand: Command {
    static let name = "gpio"
    static let summary = "the gateway's inputs and relays; set or reset an output"
    static let usage = """
        vigil gpio                               the board's lines, inputs (level, quality), outputs (state, override)
        vigil gpio read LINE                     one input's level now: a board label, an input id, or CHIP:OFFSET
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
        case "read":
            guard let line = arguments.positional() else { throw UsageError("read LINE") }
            request = ControlRequest("gpio.read")
            request.line = line
        case let other?: throw UsageError("unknown action '\(other)' (set or reset)")
        }
        if request.command == "gpio.set" || request.command == "gpio.reset", !yes { throw UsageError("this switches a relay on site: add --yes") }
    }

    func run() -> Int32 {
        if request.command == "gpio.read" {
            return options.run(request, as: LineReading.self) { r in "\(r.line): \(r.active ? "active" : "inactive") (\(r.source))" }
        }
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
            var board = Table("LABEL", "KIND", "LINE", "USED BY")
            for l in r.boardLines { board.add(l.label, l.kind, l.line, l.usedBy ?? "-") }
            return (r.board.map { "board \($0)\n" + board.text + "\n\n" } ?? "no board in the config (gateway.board)\n\n")
                + (r.inputs.isEmpty ? "no inputs configured" : inputs.text) + "\n\n" + (r.outputs.isEmpty ? "no outputs configured" : outputs.text)
                + "\n\nstatus LED: \(r.statusLED ?? "none")"
        }
    }
}

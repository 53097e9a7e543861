/// Validates `inputs`, `outputs`, `actions` and `status_led`: lines by board
/// label (or chip + offset), and action rules that name devices, points,
/// levels and outputs that exist.
struct GPIOConfigParser {
    let diagnostics: Diagnostics
    let board: Board?

    static let inputKeys = ["id", "line", "chip", "offset", "active_low", "bias", "debounce_ms", "interval_ms", "alarm"]
    static let inputAlarmKeys = ["severity", "on_delay_ms", "off_delay_ms", "latch"]
    static let outputKeys = ["id", "line", "chip", "offset", "active_low", "safe_state"]
    static let actionKeys = ["when", "set", "latch"]
    static let whenKeys = ["device", "point", "level"]

    enum LineKind: String {
        case input = "digital input", output = "relay or LED", led = "LED"
    }

    func parse(_ r: ObjectReader, devices: [DeviceSpec]) -> GPIOSpec {
        var spec = GPIOSpec()
        // A line has one owner: the kernel would refuse a second request at start.
        var owners: [String: String] = [:]
        func claim(_ line: GPIOLine, by path: String, at location: SourceLocation?) {
            let key = "\(line.chip)/\(line.offset)"
            if let first = owners[key] {
                diagnostics.report(path, at: location, "\(line) is already used by \(first)")
            } else {
                owners[key] = path
            }
        }
        for item in r.array("inputs") ?? [] {
            guard let input = parseInput(item) else { continue }
            claim(input.line, by: item.path, at: item.node.location)
            spec.inputs.append(input)
        }
        for item in r.array("outputs") ?? [] {
            guard let output = parseOutput(item) else { continue }
            claim(output.line, by: item.path, at: item.node.location)
            spec.outputs.append(output)
        }
        checkUnique(r.array("inputs") ?? [], ids: spec.inputs.map(\.id), what: "input")
        checkUnique(r.array("outputs") ?? [], ids: spec.outputs.map(\.id), what: "output")
        if let led = r.node("status_led"), let line = parseLED(led, path: r.childPath("status_led")) {
            claim(line, by: r.childPath("status_led"), at: led.location)
            spec.statusLED = line
        }
        spec.actions = (r.array("actions") ?? []).flatMap { parseAction($0.node, path: $0.path, devices: devices, spec: spec) }
        return spec
    }

    private func parseInput(_ item: (node: JSONNode, path: String)) -> InputSpec? {
        guard let r = ObjectReader(item.node, path: item.path, diagnostics: diagnostics, keys: Self.inputKeys) else { return nil }
        let before = diagnostics.issues.count
        let id = r.string("id", required: true)
        if let id, !isValidID(id) { r.report("id", "\"\(id)\" may contain only letters, digits, '.', '_' and '-'") }
        let line = parseLine(r, kind: .input)
        var input = InputSpec(id: id ?? "", line: line ?? GPIOLine(chip: "", offset: 0))
        input.debounceMs = r.integer("debounce_ms", range: 0...60_000) ?? input.debounceMs
        input.intervalMs = r.integer("interval_ms", range: 1000...86_400_000) ?? input.intervalMs
        if let n = r.node("alarm") {
            if case .bool(let on) = n.value {
                input.alarm = on ? InputSpec.defaultAlarm : nil
            } else if let a = r.object("alarm", keys: Self.inputAlarmKeys) {
                var alarm = InputSpec.defaultAlarm
                alarm.severity = a.string("severity") ?? alarm.severity
                alarm.onDelayMs = a.integer("on_delay_ms", range: 0...3_600_000)
                alarm.offDelayMs = a.integer("off_delay_ms", range: 0...3_600_000)
                alarm.latch = a.bool("latch")
                input.alarm = alarm
            }
        }
        return diagnostics.issues.count == before && line != nil ? input : nil
    }

    private func parseOutput(_ item: (node: JSONNode, path: String)) -> OutputSpec? {
        guard let r = ObjectReader(item.node, path: item.path, diagnostics: diagnostics, keys: Self.outputKeys) else { return nil }
        let before = diagnostics.issues.count
        let id = r.string("id", required: true)
        if let id, !isValidID(id) { r.report("id", "\"\(id)\" may contain only letters, digits, '.', '_' and '-'") }
        guard let line = parseLine(r, kind: .output), let id else { return nil }
        let boardSafe = board?.relays.first { $0.label == line.label }?.safeState
        let safe = r.choice("safe_state", as: Board.SafeState.self) ?? boardSafe ?? .off
        return diagnostics.issues.count == before ? OutputSpec(id: id, line: line, safeState: safe == .on) : nil
    }

    private func parseLED(_ node: JSONNode, path: String) -> GPIOLine? {
        if case .string(let label) = node.value { return lineFromBoard(label, kind: .led, path: path, at: node.location) }
        guard let r = ObjectReader(node, path: path, diagnostics: diagnostics, keys: ["line", "chip", "offset", "active_low"]) else { return nil }
        return parseLine(r, kind: .led)
    }

    /// `line: "DI1"` (a board label) or `chip` + `offset`; `active_low` and `bias` override the board.
    private func parseLine(_ r: ObjectReader, kind: LineKind) -> GPIOLine? {
        var line: GPIOLine?
        if let label = r.string("line") {
            if r.has("chip") || r.has("offset") { r.report("line", "give either \"line\" (a board label) or \"chip\" and \"offset\", not both") }
            line = lineFromBoard(label, kind: kind, path: r.childPath("line"), at: r.location(of: "line"))
        } else if r.has("chip") || r.has("offset") {
            let chip = r.string("chip", required: true)
            let offset = r.integer("offset", required: true, range: 0...1023)
            if let chip, let offset { line = GPIOLine(chip: chip, offset: offset) }
        } else {
            diagnostics.report(r.childPath("line"), at: r.node.location, "is required (a board label such as \"DI1\"), or \"chip\" and \"offset\"")
        }
        if let activeLow = r.bool("active_low") { line?.activeLow = activeLow }
        if r.has("bias"), let bias = r.choice("bias", as: Board.Bias.self) { line?.bias = bias }
        return line
    }

    private func lineFromBoard(_ label: String, kind: LineKind, path: String, at location: SourceLocation?) -> GPIOLine? {
        guard let board else {
            diagnostics.report(path, at: location, "a line label needs gateway.board (or give \"chip\" and \"offset\")")
            return nil
        }
        let candidates: [Board.Line]
        switch kind {
        case .input: candidates = board.digitalInputs
        case .output: candidates = board.relays + board.leds
        case .led: candidates = board.leds
        }
        guard let l = candidates.first(where: { $0.label == label }) else {
            let hint = closestMatch(to: label, in: candidates.map(\.label)).map { "; did you mean \"\($0)\"?" }
                ?? "; its \(kind.rawValue) lines: \(candidates.map(\.label).joined(separator: ", "))"
            diagnostics.report(path, at: location, "board \"\(board.name)\" has no \(kind.rawValue) \"\(label)\"\(hint)")
            return nil
        }
        return GPIOLine(chip: l.chip, offset: l.line, activeLow: l.activeLow, bias: l.bias, label: l.label)
    }

    /// `{ when: { device, point, level }, set: { valve: "on", siren: "on" }, latch }`: one rule per output set.
    private func parseAction(_ node: JSONNode, path: String, devices: [DeviceSpec], spec: GPIOSpec) -> [ActionRule] {
        guard let r = ObjectReader(node, path: path, diagnostics: diagnostics, keys: Self.actionKeys) else { return [] }
        let before = diagnostics.issues.count
        guard let when = r.object("when", keys: Self.whenKeys) else {
            if !r.has("when") { diagnostics.report(r.childPath("when"), at: node.location, "is required (the alarm that triggers the action)") }
            return []
        }
        let device = when.string("device", required: true)
        let point = when.string("point")
        let level = when.choice("level", as: AlarmLevel.self)
        if let device {
            let points: [String]?
            if device == GPIOSpec.device { points = spec.inputs.map(\.id) } else { points = devices.first { $0.id == device }?.points.map(\.id) }
            if let points {
                if let point, !points.contains(point) {
                    let hint = closestMatch(to: point, in: points).map { "; did you mean \"\($0)\"?" } ?? ""
                    when.report("point", "device \"\(device)\" has no point \"\(point)\"\(hint)")
                }
            } else {
                let known = devices.map(\.id) + (spec.inputs.isEmpty ? [] : [GPIOSpec.device])
                let hint = closestMatch(to: device, in: known).map { "; did you mean \"\($0)\"?" } ?? ""
                when.report("device", "no device has the id \"\(device)\"\(hint)")
            }
        }
        var sets: [(String, Bool)] = []
        if let members = r.freeObject("set") {
            if members.isEmpty { r.report("set", "names no output") }
            for m in members {
                let memberPath = "\(r.childPath("set")).\(m.key)"
                if !spec.outputs.contains(where: { $0.id == m.key }) {
                    let hint = closestMatch(to: m.key, in: spec.outputs.map(\.id)).map { "; did you mean \"\($0)\"?" } ?? ""
                    diagnostics.report(memberPath, at: m.keyLocation, "no output has the id \"\(m.key)\"\(hint)")
                    continue
                }
                switch m.value.value {
                case .string("on"), .bool(true): sets.append((m.key, true))
                case .string("off"), .bool(false): sets.append((m.key, false))
                default: diagnostics.report(memberPath, at: m.value.location, "expected \"on\" or \"off\", found \(m.value.kindName)")
                }
            }
        } else if !r.has("set") {
            diagnostics.report(r.childPath("set"), at: node.location, "is required (outputs and the state to put them in, e.g. { siren: \"on\" })")
        }
        let latch = r.bool("latch") ?? false
        guard diagnostics.issues.count == before, let device else { return [] }
        return sets.map { ActionRule(device: device, point: point, level: level, output: $0.0, value: $0.1, latch: latch) }
    }

    private func checkUnique(_ items: [(node: JSONNode, path: String)], ids: [String], what: String) {
        var seen = Set<String>()
        for (node, path) in items {
            guard case .object(let members) = node.value, let m = members.first(where: { $0.key == "id" }), case .string(let id) = m.value.value else { continue }
            if !seen.insert(id).inserted, ids.contains(id) { diagnostics.report("\(path).id", at: m.value.location, "duplicate \(what) id \"\(id)\"") }
        }
    }
}

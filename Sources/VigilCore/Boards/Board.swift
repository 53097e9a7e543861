/// A gateway's hardware: its serial ports, digital inputs, relays, LEDs and
/// watchdog, by the labels printed on the case. Configs name labels, so a
/// config moves to another board by changing `gateway.board`.
public struct Board: Sendable, Equatable {
    public enum RS485Mode: String, Sendable, CaseIterable {
        /// The kernel drives the transceiver (TIOCSRS485): Vigil sets RS-485 mode.
        case kernel
        /// The adapter or UART switches direction itself.
        case auto
    }

    public struct SerialPort: Sendable, Equatable {
        public var label: String
        public var device: String
        public var rs485: RS485Mode
    }

    public enum Bias: String, Sendable, CaseIterable { case none, pullUp = "pull-up", pullDown = "pull-down" }
    public enum SafeState: String, Sendable, CaseIterable { case off, on }

    public struct Line: Sendable, Equatable {
        public var label: String
        public var chip: String
        public var line: Int
        public var activeLow: Bool
        public var bias: Bias
        /// For relays: the state they are put in when the agent stops or cannot decide.
        public var safeState: SafeState
    }

    public var name: String
    public var file: String
    public var source: String
    public var serialPorts: [SerialPort]
    public var digitalInputs: [Line]
    public var relays: [Line]
    public var leds: [Line]
    public var watchdogDevice: String?
    public var watchdogMaxTimeoutSeconds: Int?
    public var notes: String?

    public var labels: [String] { serialPorts.map(\.label) + digitalInputs.map(\.label) + relays.map(\.label) + leds.map(\.label) }

    static let keys = ["name", "source", "serial_ports", "digital_inputs", "relays", "leds", "watchdog", "notes"]

    static func parse(_ root: JSONNode, file: String, diagnostics: Diagnostics) -> Board? {
        guard let r = ObjectReader(root, path: "", diagnostics: diagnostics, keys: keys) else { return nil }
        let before = diagnostics.issues.count
        let name = r.string("name", required: true)
        let source = r.string("source", required: true)
        let notes = r.string("notes")
        let ports = (r.array("serial_ports", required: true) ?? []).compactMap { node, path -> SerialPort? in
            guard let p = ObjectReader(node, path: path, diagnostics: diagnostics, keys: ["label", "device", "rs485"]),
                  let label = p.string("label", required: true), let device = p.string("device", required: true) else { return nil }
            return SerialPort(label: label, device: device, rs485: p.choice("rs485", as: RS485Mode.self) ?? .auto)
        }
        func lines(_ key: String) -> [Line] {
            (r.array(key) ?? []).compactMap { node, path -> Line? in
                guard let l = ObjectReader(node, path: path, diagnostics: diagnostics, keys: ["label", "chip", "line", "active_low", "bias", "safe_state"]),
                      let label = l.string("label", required: true), let chip = l.string("chip", required: true),
                      let line = l.integer("line", required: true, range: 0...1023) else { return nil }
                return Line(label: label, chip: chip, line: line, activeLow: l.bool("active_low") ?? false,
                            bias: l.choice("bias", as: Bias.self) ?? .none, safeState: l.choice("safe_state", as: SafeState.self) ?? .off)
            }
        }
        let inputs = lines("digital_inputs"), relays = lines("relays"), leds = lines("leds")
        let watchdog = r.object("watchdog", keys: ["device", "max_timeout_s"])
        let board = Board(name: name ?? "", file: file, source: source ?? "", serialPorts: ports, digitalInputs: inputs, relays: relays,
                          leds: leds, watchdogDevice: watchdog?.string("device"),
                          watchdogMaxTimeoutSeconds: watchdog?.integer("max_timeout_s", range: 1...3600), notes: notes)
        var seen = Set<String>()
        for label in board.labels where !seen.insert(label).inserted {
            diagnostics.report("", at: root.location, "the label \"\(label)\" is used twice")
        }
        return diagnostics.issues.count == before ? board : nil
    }
}

import VigilAgent

/// `vigil board list|show NAME` and `vigil profile list|show NAME`: what ships
/// (and what the installer added under /etc/vigil), without an agent running.
struct BoardCommand: Command {
    static let name = "board"
    static let summary = "list the board definitions, or show one's labels"
    static let usage = """
        vigil board list [--json]
        vigil board show NAME [--json]

        Boards come from \(Resources.localBoardsDirectory) first, then the shipped Boards/.
        """

    var query: LibraryQuery

    init(_ arguments: inout Arguments) throws(UsageError) { query = try LibraryQuery(&arguments) }

    func run() -> Int32 {
        let library = Resources.boardLibrary()
        guard let name = query.show else {
            let boards = library.names().compactMap { n -> (String, Board)? in
                guard let file = library.resolve(n, relativeTo: "."), case .success(let b) = library.loadBoard(file: file) else { return nil }
                return (n, b)
            }
            if query.json { say(ControlClient.json(boards.map { ["name": $0.0, "title": $0.1.name, "file": $0.1.file] })); return ExitCode.ok }
            var t = Table("NAME", "BOARD", "SERIAL PORTS", "INPUTS", "RELAYS")
            for (n, b) in boards { t.add(n, b.name, "\(b.serialPorts.count)", "\(b.digitalInputs.count)", "\(b.relays.count)") }
            say(t.text)
            return ExitCode.ok
        }
        guard let file = library.resolve(name, relativeTo: ".") else { return unknown("board", name, library.names()) }
        switch library.loadBoard(file: file) {
        case .failure(let errors):
            printError(errors.description)
            return ExitCode.usage
        case .success(let b):
            if query.json {
                say(ControlClient.json(BoardDescription(b)))
                return ExitCode.ok
            }
            var t = Table("LABEL", "KIND", "WHERE", "DETAILS")
            for p in b.serialPorts { t.add(p.label, "serial", p.device, "RS-485: \(p.rs485.rawValue)") }
            for (kind, lines) in [("input", b.digitalInputs), ("relay", b.relays), ("led", b.leds)] {
                for l in lines {
                    let details = [l.activeLow ? "active low" : "active high", l.bias == .none ? nil : "bias \(l.bias.rawValue)",
                                   kind == "relay" ? "safe state \(l.safeState.rawValue)" : nil].compactMap { $0 }.joined(separator: ", ")
                    t.add(l.label, kind, "\(l.chip) line \(l.line)", details)
                }
            }
            var out = "\(b.name) (\(b.file))\nsource: \(b.source)\n\n\(t.text)\n"
            if let w = b.watchdogDevice { out += "\nwatchdog: \(w), at most \(b.watchdogMaxTimeoutSeconds.map { "\($0) s" } ?? "?")" }
            if let notes = b.notes { out += "\nnotes: \(notes)" }
            say(out)
            return ExitCode.ok
        }
    }

    struct BoardDescription: Codable {
        var name, file, source: String
        var serialPorts: [String: String]
        var digitalInputs, relays, leds: [String: String]
        var watchdog: String?
        var notes: String?
        init(_ b: Board) {
            name = b.name; file = b.file; source = b.source; watchdog = b.watchdogDevice; notes = b.notes
            serialPorts = Dictionary(uniqueKeysWithValues: b.serialPorts.map { ($0.label, $0.device) })
            func lines(_ l: [Board.Line]) -> [String: String] { Dictionary(uniqueKeysWithValues: l.map { ($0.label, "\($0.chip)/\($0.line)") }) }
            digitalInputs = lines(b.digitalInputs); relays = lines(b.relays); leds = lines(b.leds)
        }
    }
}

struct ProfileCommand: Command {
    static let name = "profile"
    static let summary = "list the sensor profiles, show one's register map and alarms, or its Alibaba TSL"
    static let usage = """
        vigil profile list [--json]
        vigil profile show NAME [--json]
        vigil profile tsl NAME [--product-key PK]   the thing model of a sub-device product of this profile

        Profiles come from \(Resources.localProfilesDirectory) first, then the shipped Profiles/.
        """

    var query: LibraryQuery
    var productKey: String?

    init(_ arguments: inout Arguments) throws(UsageError) {
        productKey = try arguments.option("--product-key")
        query = try LibraryQuery(&arguments, tsl: true)
    }

    func run() -> Int32 {
        let library = Resources.profileLibrary()
        if let name = query.tsl {
            guard let p = load(name, from: library) else { return ExitCode.usage }
            return printThingModel(AlinkThingModel.forProfile(p, productKey: productKey), entries: AlinkThingModel.profileEntries(p))
        }
        guard let name = query.show else {
            let profiles = library.names().compactMap { n -> Profile? in
                guard let file = library.resolve(n, relativeTo: "."), case .success(let p) = library.load(file: file) else { return nil }
                return p
            }
            if query.json { say(ControlClient.json(profiles.map { ["name": $0.name, "model": $0.model, "kind": $0.kind.rawValue] })); return ExitCode.ok }
            var t = Table("NAME", "MANUFACTURER", "MODEL", "KIND", "POINTS")
            for p in profiles { t.add(p.name, p.manufacturer, p.model, p.kind.rawValue, "\(p.points.count)") }
            say(t.text)
            return ExitCode.ok
        }
        guard let p = load(name, from: library) else { return ExitCode.usage }
        var t = Table("POINT", "TABLE", "ADDRESS", "REGISTER", "TYPE", "ORDER", "UNIT", "ROLE", "ALARMS")
        for point in p.points {
            let alarms = point.alarms.map { a in
                [a.high.map { "high \(format($0))" }, a.highHigh.map { "highhigh \(format($0))" }, a.low.map { "low \(format($0))" },
                 a.lowLow.map { "lowlow \(format($0))" }, a.risePerMinute.map { "rise \(format($0))/min" }].compactMap { $0 }.joined(separator: ", ")
            } ?? ""
            t.add(point.id, point.table.rawValue, "\(point.address)", manualNumber(point.table, point.address), point.type.rawValue,
                  point.width > 1 ? point.order.rawValue : "-", point.unit ?? "", point.role?.rawValue ?? "", alarms)
        }
        if query.json {
            say(ControlClient.json(["name": p.name, "manufacturer": p.manufacturer, "model": p.model, "kind": p.kind.rawValue,
                                    "source": p.source, "primary": p.primary, "file": p.file]))
        } else {
            say("\(p.manufacturer) \(p.model) — \(p.kind.rawValue) (\(p.file))\nsource: \(p.source)\nprimary point: \(p.primary)\(p.oel.map { ", OEL \(format($0))" } ?? "")\n\n\(t.text)")
        }
        return ExitCode.ok
    }

    /// The profile named, or nil after saying why (unknown, with the closest name; or its errors).
    private func load(_ name: String, from library: ProfileLibrary) -> Profile? {
        guard let file = library.resolve(name, relativeTo: ".") else { _ = unknown("profile", name, library.names()); return nil }
        switch library.load(file: file) {
        case .failure(let errors):
            printError(errors.description)
            return nil
        case .success(let p):
            return p
        }
    }
}

/// `list`, `show NAME` (and for profiles `tsl NAME`), and `--json`.
struct LibraryQuery {
    var json: Bool
    /// nil: list.
    var show: String?
    var tsl: String?

    init(_ arguments: inout Arguments, tsl allowsTSL: Bool = false) throws(UsageError) {
        json = arguments.flag("--json")
        switch arguments.positional() {
        case "list": show = nil
        case let verb? where verb == "show" || (verb == "tsl" && allowsTSL):
            guard let name = arguments.positional() else { throw UsageError("\(verb) which one?") }
            if verb == "show" { show = name } else { tsl = name }
        case let other: throw UsageError("expected list or show NAME\(allowsTSL ? " or tsl NAME" : "")\(other.map { ", got '\($0)'" } ?? "")")
        }
    }
}

func unknown(_ what: String, _ name: String, _ known: [String]) -> Int32 {
    let hint = closestMatch(to: name, in: known).map { "; did you mean \"\($0)\"?" } ?? "; known: \(known.joined(separator: ", "))"
    printError("vigil: no \(what) \"\(name)\"\(hint)")
    return ExitCode.usage
}

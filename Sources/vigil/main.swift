import Glibc
import VigilAgent

/// `vigil`: the agent (`vigil run`) and the technician's tool, one binary.
func allCommands() -> [any Command.Type] {
    [RunCommand.self, StatusCommand.self, ValuesCommand.self, AlarmsCommand.self, AlarmAckCommand.self, QueueCommand.self,
     DiagReadCommand.self, DiagWriteCommand.self, DiagScanCommand.self, DiagWatchCommand.self, DiagFramesCommand.self,
     GPIOCommand.self, UplinkTestCommand.self, ConfigCheckCommand.self, ConfigTSLCommand.self, BoardCommand.self, ProfileCommand.self, BundleCommand.self,
     SimulateCommand.self, ReceiveCommand.self, DemoCommand.self, ReloadCommand.self]
}



func printHelp() {
    var text = "vigil \(vigilVersion) — edge agent for Modbus gas, level and smoke sensors\n\nUsage: vigil COMMAND [OPTIONS]\n\nCommands:\n"
    for command in allCommands() {
        text += "  \(command.name.padding(14))\(command.summary)\n"
    }
    text += "  \("help COMMAND".padding(14))the options of one command (or of a group: vigil help diag)\n"
    text += "  \("help --man".padding(14))the manual page vigil(1), in roff\n"
    say(text, terminator: "")
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}

/// The first words of two-word commands: `diag`, `config`, `alarm`, `uplink`.
func groupNames() -> [String] {
    var names: [String] = []
    for command in allCommands() {
        let words = command.name.split(separator: " ")
        if words.count == 2, !names.contains(String(words[0])) { names.append(String(words[0])) }
    }
    return names
}

/// `vigil diag`: what the group holds, one line each.
func groupHelp(_ group: String) -> String {
    var text = "vigil \(group) — one of:\n\n"
    for command in allCommands() where command.name.hasPrefix(group) {
        text += "  vigil \(command.name.padding(14))\(command.summary)\n"
    }
    return text + "\nvigil help \(group) SUBCOMMAND gives its options."
}

/// The `--options` a usage text names.
func optionNames(in usage: String) -> [String] {
    var names: [String] = []
    var rest = Substring(usage)
    while let start = rest.firstRange(of: "--") {
        let name = "--" + rest[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
        if name.count > 2, !names.contains(name) { names.append(name) }
        rest = rest[start.upperBound...]
    }
    return names
}

/// Finds the command named by the first one or two words.
func lookup(_ words: [String]) -> (any Command.Type, Int)? {
    if words.count >= 2, let c = allCommands().first(where: { $0.name == "\(words[0]) \(words[1])" }) { return (c, 2) }
    if let first = words.first, let c = allCommands().first(where: { $0.name == first }) { return (c, 1) }
    return nil
}

/// What to say about words that name no command: a group's help, or the likely command.
enum Unmatched {
    case group(String)
    case unknown(String)

    static func of(_ words: [String]) -> Unmatched {
        let first = words.first ?? ""
        let names: [String] = allCommands().map { $0.name }
        if groupNames().contains(first) {
            guard words.count >= 2, !words[1].hasPrefix("-") else { return .group(first) }
            let subcommands = names.filter { $0.hasPrefix(first + " ") }.map { String($0.dropFirst(first.count + 1)) }
            let hint = closestMatch(to: words[1], in: subcommands).map { "; did you mean 'vigil \(first) \($0)'?" } ?? ""
            return .unknown("vigil: no command '\(first) \(words[1])'\(hint)\nSee 'vigil help \(first)'.")
        }
        let candidates = names.filter { !$0.contains(" ") } + groupNames() + ["help"]
        let hint = closestMatch(to: first, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
        return .unknown("vigil: no command '\(first)'\(hint)\nSee 'vigil help'.")
    }
}

func main() -> Int32 {
    // A peer that goes away (an agent closing a refused connection, `| head`) is an error to report, not a silent death.
    signal(SIGPIPE, SIG_IGN)
    let words = Array(CommandLine.arguments.dropFirst())
    guard let first = words.first, first != "--help", first != "-h" else {
        printHelp()
        return words.isEmpty ? ExitCode.usage : ExitCode.ok
    }
    if first == "--version" { say("vigil \(vigilVersion)"); return ExitCode.ok }
    if first == "help" {
        let asked = Array(words.dropFirst())
        guard !asked.isEmpty else { printHelp(); return ExitCode.ok }
        if asked == ["--man"] { say(ManPage.render(commands: allCommands()), terminator: ""); return ExitCode.ok }
        if let (command, _) = lookup(asked) { say(command.usage); return ExitCode.ok }
        switch Unmatched.of(asked) {
        case .group(let group): say(groupHelp(group)); return ExitCode.ok
        case .unknown(let message): printError(message); return ExitCode.usage
        }
    }
    guard let (command, used) = lookup(words) else {
        switch Unmatched.of(words) {
        case .group(let group): say(groupHelp(group)); return ExitCode.ok
        case .unknown(let message): printError(message); return ExitCode.usage
        }
    }
    var arguments = Arguments(Array(words.dropFirst(used)))
    if arguments.flag("--help") || arguments.flag("-h") { say(command.usage); return ExitCode.ok }
    do {
        let parsed = try command.init(&arguments)
        try arguments.finish()
        return parsed.run()
    } catch {
        let hint = error.unknownOption.flatMap { closestMatch(to: $0, in: optionNames(in: command.usage)) }.map { "; did you mean \($0)?" } ?? ""
        printError("vigil \(command.name): \(error)\(hint)\nSee 'vigil help \(command.name)'.")
        return ExitCode.usage
    }
}

exit(main())

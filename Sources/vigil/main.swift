import Glibc
import VigilCore

/// `vigil`: the agent (`vigil run`) and the technician's tool, one binary.
func allCommands() -> [any Command.Type] {
    [RunCommand.self, StatusCommand.self, ValuesCommand.self, AlarmsCommand.self, AlarmAckCommand.self, QueueCommand.self,
     DiagReadCommand.self, DiagWriteCommand.self, DiagScanCommand.self, DiagWatchCommand.self, DiagFramesCommand.self,
     GPIOCommand.self, UplinkTestCommand.self, ConfigCheckCommand.self, BoardCommand.self, ProfileCommand.self, BundleCommand.self,
     SimulateCommand.self, ReceiveCommand.self, DemoCommand.self, ReloadCommand.self]
}



func printHelp() {
    var text = "vigil \(vigilVersion) — edge agent for Modbus gas, level and smoke sensors\n\nUsage: vigil COMMAND [OPTIONS]\n\nCommands:\n"
    for command in allCommands() {
        text += "  \(command.name.padding(14))\(command.summary)\n"
    }
    text += "  \("help COMMAND".padding(14))the options of one command\n"
    say(text, terminator: "")
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}

/// Finds the command named by the first one or two words.
func lookup(_ words: [String]) -> (any Command.Type, Int)? {
    if words.count >= 2, let c = allCommands().first(where: { $0.name == "\(words[0]) \(words[1])" }) { return (c, 2) }
    if let first = words.first, let c = allCommands().first(where: { $0.name == first }) { return (c, 1) }
    return nil
}

func main() -> Int32 {
    let words = Array(CommandLine.arguments.dropFirst())
    guard let first = words.first, first != "--help", first != "-h" else {
        printHelp()
        return words.isEmpty ? ExitCode.usage : ExitCode.ok
    }
    if first == "--version" { say("vigil \(vigilVersion)"); return ExitCode.ok }
    if first == "help" {
        guard words.count > 1 else { printHelp(); return ExitCode.ok }
        guard let (command, _) = lookup(Array(words.dropFirst())) else {
            printError("vigil: no command '\(words.dropFirst().joined(separator: " "))'; see vigil help")
            return ExitCode.usage
        }
        say(command.usage)
        return ExitCode.ok
    }
    guard let (command, used) = lookup(words) else {
        printError("vigil: no command '\(first)'; see vigil help")
        return ExitCode.usage
    }
    var arguments = Arguments(Array(words.dropFirst(used)))
    if arguments.flag("--help") { say(command.usage); return ExitCode.ok }
    do {
        let parsed = try command.init(&arguments)
        try arguments.finish()
        return parsed.run()
    } catch {
        printError("vigil \(command.name): \(error)\n\n\(command.usage)")
        return ExitCode.usage
    }
}

exit(main())

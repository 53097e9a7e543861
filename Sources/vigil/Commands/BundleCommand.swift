import Glibc
import VigilAgent

struct BundleCommand: Command {
    static let name = "bundle"
    static let summary = "a support archive: config (secrets redacted), status, frames, journal stats, versions, log"
    static let usage = """
        vigil bundle [--out FILE] [--config FILE] [--socket PATH]

          --out FILE      the archive (default ./vigil-bundle-GATEWAY-TIME.tar.gz)
          --config FILE   the config to include (default \(ConfigLoader.defaultPath))

        Holds: the config with passwords, tokens and URL credentials redacted;
        the agent's status, values, alarms, queue and each bus's recent frames
        (when it is running); versions of vigil, libmodbus, libcurl, zlib,
        libgpiod and the kernel; the last 500 lines of its journald log when
        journalctl is there. Send it to whoever supports the site.
        """

    var out: String?
    var configPath: String
    var client: ControlClient

    init(_ arguments: inout Arguments) throws(UsageError) {
        out = try arguments.option("--out")
        configPath = try arguments.option("--config") ?? ConfigLoader.defaultPath
        client = ControlClient(socket: ControlClient.socketPath(option: try arguments.option("--socket")))
    }

    func run() -> Int32 {
        let stamp = SystemClock.shared.now().iso8601.filter { $0.isNumber }.prefix(14)
        let status = try? client.send(ControlRequest("status"), as: StatusReport.self)
        let name = "vigil-bundle-\(status?.gateway ?? "gateway")-\(stamp)"
        let work = "/tmp/\(name)-\(getpid())"
        let dir = "\(work)/\(name)"
        defer { _ = runProgram(["/bin/rm", "-rf", work]) }
        do { try FileSystem.makeDirectory(work); try FileSystem.makeDirectory(dir) } catch {
            printError("vigil: \(error)")
            return ExitCode.failed
        }
        var notes: [String] = []
        func put(_ file: String, _ text: String) {
            do { try FileSystem.replaceAtomically("\(dir)/\(file)", with: Array(text.utf8)) } catch { notes.append("\(file): \(error)") }
        }
        if let text = try? readTextFile(configPath) { put("config.json5", Self.redact(text)) } else { notes.append("config: \(configPath) cannot be read") }
        if let status {
            put("status.json", ControlClient.json(status))
            put("status.txt", StatusCommand.render(status))
            for (file, command) in [("values.json", "values"), ("alarms.json", "alarms"), ("queue.json", "queue"), ("gpio.json", "gpio")] {
                put(file, fetch(command))
            }
            for bus in status.buses {
                var request = ControlRequest("frames")
                request.bus = bus.id
                put("frames-\(bus.id).json", (try? client.send(request, as: [FrameRecord].self)).map(ControlClient.json) ?? "[]")
            }
        } else {
            notes.append("the agent did not answer on \(client.socket): no status, values or frames")
        }
        var u = utsname()
        uname(&u)
        let kernel = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        put("versions.txt", """
            vigil \(vigilVersion)
            \(libraryVersions.map { "\($0.name) \($0.version)" }.joined(separator: "\n"))
            kernel \(kernel)

            """)
        if fileExists("/usr/bin/journalctl") || fileExists("/bin/journalctl") {
            _ = runProgram(["journalctl", "-u", "vigil", "-n", "500", "--no-pager"], stdout: "\(dir)/journal.log")
        } else {
            notes.append("journalctl is not installed: no log")
        }
        if !notes.isEmpty { put("NOTES.txt", notes.joined(separator: "\n") + "\n") }
        let archive = out ?? "\(name).tar.gz"
        guard runProgram(["tar", "-czf", archive, "-C", work, name]) == 0 else {
            printError("vigil: tar could not write \(archive)")
            return ExitCode.failed
        }
        say("\(archive)\(notes.isEmpty ? "" : " (\(notes.count) note(s) inside: NOTES.txt)")")
        return ExitCode.ok
    }

    private func fetch(_ command: String) -> String {
        switch command {
        case "values": (try? client.send(ControlRequest(command), as: [ValueReport].self)).map(ControlClient.json) ?? "null"
        case "alarms": (try? client.send(ControlRequest(command), as: AlarmsReport.self)).map(ControlClient.json) ?? "null"
        case "queue": (try? client.send(ControlRequest(command), as: StatusReport.Queue.self)).map(ControlClient.json) ?? "null"
        default: (try? client.send(ControlRequest(command), as: GPIOReport.self)).map(ControlClient.json) ?? "null"
        }
    }

    /// Credentials out: the value of any key naming a password, secret or
    /// token (a token *file* is a path, kept), and in URLs what `redactedURL` hides.
    static func redact(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var l = String(line)
            let lower = l.lowercased()
            if let colon = l.firstIndex(of: ":"), ["password", "secret", "token", "passphrase"].contains(where: { lower[..<colon].contains($0) }),
               !lower[..<colon].contains("_file") {
                l = String(l[...colon]) + " \"<redacted>\","
            }
            // Every URL on the line, as status and logs show it.
            var searchFrom = l.startIndex
            while let scheme = l[searchFrom...].firstRange(of: "://") {
                let start = l[..<scheme.lowerBound].lastIndex { !($0.isLetter || $0 == "+" || $0 == ".") }.map { l.index(after: $0) } ?? l.startIndex
                let end = l[scheme.upperBound...].firstIndex { $0 == "\"" || $0 == "'" || $0 == " " || $0 == "," } ?? l.endIndex
                let shown = redactedURL(String(l[start..<end]))
                l.replaceSubrange(start..<end, with: shown)
                searchFrom = l.index(start, offsetBy: shown.count)
            }
            return l
        }.joined(separator: "\n")
    }
}

/// Runs a program (looked up on PATH), optionally with its output and errors in a file; returns its exit status.
func runProgram(_ argv: [String], stdout path: String? = nil) -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let path {
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, path, O_WRONLY | O_CREAT | O_TRUNC, 0o640)
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO)
    }
    var pid = pid_t()
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) } }
    guard posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ) == 0 else { return 127 }
    var status: Int32 = 0
    _ = retryingInterrupts { waitpid(pid, &status, 0) }
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128
}

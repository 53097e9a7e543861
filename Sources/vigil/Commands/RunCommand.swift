import Glibc
import VigilAgent

struct RunCommand: Command {
    static let name = "run"
    static let summary = "run the agent: poll every device and emit readings"
    static let usage = """
        vigil run [--config FILE] [--duration SECONDS]

          --config FILE       the config (default \(ConfigLoader.defaultPath))
          --duration SECONDS  stop after this long (default: until SIGTERM or SIGINT)
          --log-level LEVEL   error, warning, info (default) or debug

        Under systemd (Type=notify): READY=1 once the journal is recovered and the
        buses opened, WATCHDOG=1 while every part checks in, STATUS= one line,
        SIGHUP reloads the config (an invalid one keeps the running one), SIGTERM
        stops in order.

        Every reading and event is written to the journal in state_dir/journal
        first, then forwarded to the uplink: JSON Lines on standard output with
        `uplink: { kind: "stdout" }`, batches POSTed with `kind: "http"`.
        Log lines go to stderr: under systemd with priority prefixes for
        journald (`journalctl -u vigil -p warning`), elsewhere as
        `2026-12-01T14:45:03.123Z warning: ...` (UTC). `--log-level debug`
        adds one line per Modbus request: the frames sent and received and
        the time the device took to answer.
        """

    var configPath: String
    var duration: Double?
    var logLevel: Logger.Level

    init(_ arguments: inout Arguments) throws(UsageError) {
        configPath = try arguments.option("--config") ?? ConfigLoader.defaultPath
        duration = try Arguments.number(arguments.option("--duration"), "--duration")
        let names = Logger.Level.allCases.map(\.name)
        let level = try Arguments.choice(arguments.option("--log-level") ?? "info", "--log-level", in: names)
        logLevel = Logger.Level.allCases.first { $0.name == level }!
    }

    func run() -> Int32 {
        guard var config = loadConfig(configPath) else { return ExitCode.usage }
        config.journal.traceFile = getenv("VIGIL_JOURNAL_TRACE").map { String(cString: $0) }
        let log = Logger(threshold: logLevel)
        tuneMallocForTheAgent()
        Signals.blockTermination()
        let daemon: Daemon
        do {
            daemon = try Daemon(config: config, uplink: try makeUplink(config, log: log), log: log)
        } catch {
            log.error("vigil: cannot start: \(error)")
            return ExitCode.failed
        }
        let path = configPath
        let loop = ServiceLoop(daemon: daemon, notifier: .fromEnvironment(), log: log) {
            ConfigLoader(profiles: Resources.profileLibrary(), boards: Resources.boardLibrary()).load(file: path)
        }
        return loop.run(duration: duration)
    }
}

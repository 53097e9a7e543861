import Glibc
import VigilAgent
import VigilCore

struct RunCommand: Command {
    static let name = "run"
    static let summary = "run the agent: poll every device and emit readings"
    static let usage = """
        vigil run [--config FILE] [--duration SECONDS]

          --config FILE       the config (default \(ConfigLoader.defaultPath))
          --duration SECONDS  stop after this long (default: until SIGTERM or SIGINT)

        Readings and events go to the uplink; with `uplink: { kind: "stdout" }`
        they are JSON Lines on standard output. Errors and notices go to stderr.
        """

    var configPath: String
    var duration: Double?

    init(_ arguments: inout Arguments) throws(UsageError) {
        configPath = try arguments.option("--config") ?? ConfigLoader.defaultPath
        duration = try Arguments.number(arguments.option("--duration"), "--duration")
    }

    func run() -> Int32 {
        guard let config = loadConfig(configPath) else { return ExitCode.usage }
        Signals.blockTermination()
        let agent = Agent(config: config, sink: JSONLinesSink())
        agent.start()
        printError("vigil: polling \(config.devices.filter(\.enabled).count) device(s) on \(agent.workers.count) bus(es)")
        _ = Signals.wait(upToSeconds: duration)
        agent.stop()
        return ExitCode.ok
    }
}

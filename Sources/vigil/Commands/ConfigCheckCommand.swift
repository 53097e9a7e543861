import VigilCore

struct ConfigCheckCommand: Command {
    static let name = "config check"
    static let summary = "validate a config and report every error"
    static let usage = """
        vigil config check [FILE]

          FILE  the config (default \(ConfigLoader.defaultPath))

        Prints every error as FILE:LINE:COLUMN: JSON.PATH: what is wrong, and
        exits 2 when there is any; prints a summary and exits 0 when the config is valid.
        """

    var path: String

    init(_ arguments: inout Arguments) throws(UsageError) {
        path = arguments.positional() ?? ConfigLoader.defaultPath
    }

    func run() -> Int32 {
        guard let config = loadConfig(path) else { return ExitCode.usage }
        for warning in config.warnings { printError("warning: \(warning)") }
        let points = config.devices.reduce(0) { $0 + $1.points.count }
        say("\(path): ok — gateway \(config.gateway.id), \(config.buses.count) bus(es), \(config.devices.count) device(s), \(points) point(s)")
        return ExitCode.ok
    }
}

import Glibc
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
        for warning in config.warnings + Self.diskWarnings(config) { printError("warning: \(warning)") }
        let points = config.devices.reduce(0) { $0 + $1.points.count }
        say("\(path): ok — gateway \(config.gateway.id), \(config.buses.count) bus(es), \(config.devices.count) device(s), \(points) point(s)")
        return ExitCode.ok
    }

    /// The journal's quota against the filesystem that holds state_dir (or the
    /// nearest directory of it that exists yet): a quota the disk cannot hold
    /// means the disk fills before the quota drops anything.
    static func diskWarnings(_ config: VigilConfig) -> [String] {
        var directory = config.gateway.stateDir
        var fs = statvfs()
        while statvfs(directory, &fs) != 0 {
            guard directory != "/", !directory.isEmpty else { return [] }
            directory = directoryName(of: directory)
        }
        let size = Int(fs.f_blocks) * Int(fs.f_frsize)
        guard config.journal.maxBytes > size else { return [] }
        return ["journal.max_bytes: \(config.journal.maxBytes / (1 << 20)) MiB is more than the \(size / (1 << 20)) MiB filesystem holding \(config.gateway.stateDir); "
                + "the disk fills first (readings wait in memory, then are dropped); set max_bytes below the free space"]
    }
}

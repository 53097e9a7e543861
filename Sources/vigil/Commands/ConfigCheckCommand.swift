import Glibc
import VigilAgent

struct ConfigCheckCommand: Command {
    static let name = "config check"
    static let summary = "validate a config and report every error"
    static let usage = """
        vigil config check [FILE] [--as-service [--user NAME]]

          FILE          the config (default \(ConfigLoader.defaultPath))
          --as-service  also try, as the service's user and groups would (User=\(ServiceAccess.unitUser),
                        SupplementaryGroups=\(ServiceAccess.unitSupplementaryGroups.joined(separator: " "))), every
                        serial port, secret, TLS file, GPIO chip, the watchdog and the state
                        directory the config names; each failure with its fix. Needs root.
          --user NAME   the service's user (default \(ServiceAccess.unitUser))

        Prints every error as FILE:LINE:COLUMN: JSON.PATH: what is wrong, and
        exits 2 when there is any; prints a summary and exits 0 when the config is valid.
        """

    var path: String
    var asService: Bool
    var user: String

    init(_ arguments: inout Arguments) throws(UsageError) {
        asService = arguments.flag("--as-service")
        user = try arguments.option("--user") ?? ServiceAccess.unitUser
        path = arguments.positional() ?? ConfigLoader.defaultPath
    }

    func run() -> Int32 {
        guard let config = loadConfig(path) else { return ExitCode.usage }
        for warning in config.warnings + Self.diskWarnings(config) { printError("warning: \(warning)") }
        let points = config.devices.reduce(0) { $0 + $1.points.count }
        let summary = "\(path): ok — gateway \(config.gateway.id), \(config.buses.count) bus(es), \(config.devices.count) device(s), \(points) point(s)"
        guard asService else {
            for need in ServiceAccess.needs(of: config) where need.kind == .serialPort && !fileExists(need.path) {
                printError("warning: \(need.subject): \(need.path) does not exist on this machine")
            }
            say(summary)
            say("skipped: serial ports, secrets, state directory and watchdog as the service user and its sandbox see them "
                + "(vigil config check --as-service, as root)")
            return ExitCode.ok
        }
        let service: ServiceUser
        do {
            service = try ServiceUser.lookup(user, supplementary: ServiceAccess.unitSupplementaryGroups)
        } catch {
            printError("vigil: \(error)")
            return ExitCode.usage
        }
        var failures = 0
        for need in ServiceAccess.needs(of: config) {
            let what = "\(need.subject) \(need.path)"
            var problem = ServiceAccess.sandboxProblem(need) ?? service.problem(with: need)
            if problem == .missing, need.kind == .stateDirectory, ServiceAccess.sandboxProblem(need) == nil {
                problem = nil // StateDirectory= makes it at start
            }
            guard let problem else {
                say("ok    \(what): \(need.write ? "read+write" : "read") as \(service.name)")
                continue
            }
            failures += 1
            say("FAIL  \(what): \(Self.describe(problem, service.name))\n      fix: \(ServiceAccess.fix(need, problem, user: service.name, userGroup: service.groupName))")
        }
        guard failures == 0 else {
            printError("\(path): \(failures) thing(s) the service user \(service.name) cannot use; the service would fail at them")
            return ExitCode.usage
        }
        say(summary + "; all usable as \(service.name)")
        return ExitCode.ok
    }

    static func describe(_ problem: AccessProblem, _ user: String) -> String {
        switch problem {
        case .missing: "does not exist"
        case .pathClosed: "a directory on the way is closed to \(user)"
        case .denied(let group, _): "\(user) may not open it (group \(group))"
        case .outsideSandbox: "read-only under the unit's sandbox"
        case .hiddenBySandbox(let setting): "out of the service's sight (\(setting))"
        case .notInDeviceAllow(let driver): "not in the unit's DeviceAllow= (driver \(driver ?? "unknown"))"
        }
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

import Glibc
import VigilAgent

/// `ExecReload=` of the unit: a minimal gateway image has no procps, so no `/bin/kill`.
struct ReloadCommand: Command {
    static let name = "reload"
    static let summary = "make a running agent re-read its config (systemctl reload)"
    static let usage = """
        vigil reload --pid PID

          --pid PID   the agent's process (systemd passes $MAINPID)

        Sends SIGHUP: the agent re-reads its config file; an invalid one keeps the
        running config, and the errors go to its log and `vigil status`.
        """

    var pid: pid_t

    init(_ arguments: inout Arguments) throws(UsageError) {
        guard let pid: pid_t = try Arguments.number(arguments.option("--pid"), "--pid") else { throw UsageError("--pid is required") }
        guard pid > 1 else { throw UsageError("--pid: expected the agent's process id, got \(pid)") }
        self.pid = pid
    }

    func run() -> Int32 {
        guard kill(pid, SIGHUP) == 0 else {
            printError("vigil reload: process \(pid): \(String(cString: strerror(errno)))")
            return ExitCode.failed
        }
        return ExitCode.ok
    }
}

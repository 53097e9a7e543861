import VigilAgent

/// What every command that talks to the agent takes: `--json` and `--socket PATH`.
struct ControlOptions {
    var json: Bool
    var client: ControlClient

    init(_ arguments: inout Arguments) throws(UsageError) {
        json = arguments.flag("--json")
        client = ControlClient(socket: ControlClient.socketPath(option: try arguments.option("--socket")))
    }

    static let usage = """
          --json           machine-readable output
          --socket PATH    the agent's control socket (default $VIGIL_SOCKET, else \(ControlSpec.defaultSocket))
        """

    /// Sends `request` and prints the answer: JSON with --json, else `render`. Returns the exit code.
    func run<T: Codable & Sendable>(_ request: ControlRequest, as _: T.Type, render: (T) -> String) -> Int32 {
        do {
            let result = try client.send(request, as: T.self)
            say(json ? ControlClient.json(result) : render(result))
            return ExitCode.ok
        } catch {
            printError("vigil: \(error)")
            return error.code
        }
    }
}

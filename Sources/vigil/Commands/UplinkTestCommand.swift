import VigilAgent

struct UplinkTestCommand: Command {
    static let name = "uplink test"
    static let summary = "one request to the upstream: name resolution, TLS, HTTP status, latency"
    static let usage = """
        vigil uplink test [--json] [--socket PATH]

        The agent sends one heartbeat with its own settings (URL, token or password,
        CA, client certificate) on a connection of its own, and reports each step's
        time: over HTTP one POST; over MQTT a connection under the client id
        `<client_id>-uplink-test` (not to take over the agent's session) and one
        presence message, acknowledged by the broker's PUBACK; over HJ 212, which has
        no message without data, the TCP connection to the platform.
        \(ControlOptions.usage)
        """

    var options: ControlOptions
    init(_ arguments: inout Arguments) throws(UsageError) { options = try ControlOptions(&arguments) }

    func run() -> Int32 {
        do {
            let r = try options.client.send(ControlRequest("uplink.test"), as: UplinkTestReport.self)
            if options.json {
                say(ControlClient.json(r))
            } else {
                var t = Table("STEP", "DONE AFTER")
                if r.transport == "mqtt" {
                    t.add("connected (CONNACK)", r.connectMs > 0 ? String(format1: r.connectMs) + " ms" : "-")
                    t.add("acknowledged (PUBACK)", r.totalMs > 0 ? String(format1: r.totalMs) + " ms" : "-")
                    say("\(r.url)\n" + t.text + "\n\(r.outcome)\(r.error.map { " (\($0))" } ?? "")")
                    return r.outcome == "delivered" ? ExitCode.ok : ExitCode.device
                }
                if r.transport == "hj212" {
                    t.add("TCP connect", r.connectMs > 0 ? String(format1: r.connectMs) + " ms" : "-")
                    say("\(r.url)\n" + t.text + "\n\(r.outcome)\(r.error.map { " (\($0))" } ?? "")")
                    return r.outcome == "connected" ? ExitCode.ok : ExitCode.device
                }
                t.add("name resolution", String(format1: r.nameLookupMs) + " ms")
                t.add("TCP connect", String(format1: r.connectMs) + " ms")
                t.add("TLS handshake", r.tlsMs > 0 ? String(format1: r.tlsMs) + " ms" : "- (no TLS)")
                t.add("answer", String(format1: r.totalMs) + " ms")
                say("\(r.url)\n" + t.text + "\nHTTP \(r.httpStatus.map { "\($0)" } ?? "-"): \(r.outcome)\(r.error.map { " (\($0))" } ?? "")")
                if let version = r.batchVersion {
                    say(version == 2 ? "batches in version 2 of the body (the upstream asks for it: Vigil-Batch: 2)"
                                     : "batches in version 1 of the body (the upstream does not ask for version 2)")
                }
            }
            return r.outcome == "delivered" || (r.transport == "hj212" && r.outcome == "connected") ? ExitCode.ok : ExitCode.device
        } catch {
            printError("vigil: \(error)")
            return error.code
        }
    }
}

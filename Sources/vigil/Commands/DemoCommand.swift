import Glibc
import Synchronization
import VigilAgent
import VigilLab

struct DemoCommand: Command {
    static let name = "demo"
    static let summary = "simulated sensors → agent → journal → vigil receive, with an outage"
    static let usage = """
        vigil demo [--duration SECONDS] [--outage SECONDS] [--config FILE]

          --duration SECONDS  run this long (default 30; Ctrl-C stops earlier)
          --outage SECONDS    how long the uplink is cut, a third of the way in (default 5)
          --config FILE       the demo config (default: the shipped Examples/demo.json5)

        Starts `vigil simulate` with the devices of the demo config, a reference
        upstream (`vigil receive`) and the agent polling into its journal and
        forwarding to that upstream. It cuts the uplink for a while, shows the
        backlog building up and draining, and ends with the counts: readings
        accepted, delivered, and lost (zero).
        """

    var duration: Double
    var outage: Double
    var configPath: String?

    init(_ arguments: inout Arguments) throws(UsageError) {
        duration = try Arguments.number(arguments.option("--duration"), "--duration") ?? 30
        outage = try Arguments.number(arguments.option("--outage"), "--outage") ?? 5
        configPath = try arguments.option("--config")
        guard duration > 0, outage >= 0 else { throw UsageError("--duration and --outage must be positive") }
    }

    func run() -> Int32 {
        guard let path = configPath ?? Resources.example("demo.json5") else {
            printError("vigil demo: Examples/demo.json5 not found (set VIGIL_SHARE_DIR to the directory holding Profiles/ and Examples/)")
            return ExitCode.failed
        }
        guard var config = loadConfig(path) else { return ExitCode.usage }
        guard let bus = config.buses.first, case .tcp = bus.transport else {
            printError("vigil demo: \(path) needs a tcp bus for the simulator")
            return ExitCode.usage
        }
        let library = Resources.profileLibrary()
        let simulated = config.devices(on: bus.id).compactMap { device -> SimulatedDevice? in
            guard let name = device.profile, let file = library.resolve(name, relativeTo: directoryName(of: path)),
                  case .success(let profile) = library.load(file: file) else { return nil }
            return SimulatedDevice(unit: device.unit, profile: profile)
        }
        // A journal of its own for every demo run.
        var template = Array("/tmp/vigil-demo-XXXXXX".utf8CString)
        guard let stateDir = mkdtemp(&template).map({ String(cString: $0) }) else {
            printError("vigil demo: cannot create a state directory in /tmp")
            return ExitCode.failed
        }
        config.gateway.stateDir = stateDir

        Signals.blockTermination()
        let simulator = Simulator(transport: bus.transport, devices: simulated)
        do { try simulator.start() } catch {
            printError("vigil demo: cannot start the simulator on \(bus.transport.endpointName): \(error)")
            return ExitCode.failed
        }
        defer { simulator.stop() }
        var receiverOptions = Receiver.Options()
        receiverOptions.port = 0
        receiverOptions.outPath = "\(stateDir)/received.jsonl"
        let receiver: Receiver
        do { receiver = try Receiver(options: receiverOptions, onBatch: Self.show) } catch {
            printError("vigil demo: cannot start the receiver: \(error)")
            return ExitCode.failed
        }
        receiver.start()
        defer { receiver.stop() }
        var uplinkSpec = HTTPUplinkSpec(url: "http://127.0.0.1:\(receiver.port)/ingest")
        uplinkSpec.batching.flushMs = 500
        uplinkSpec.batching.timeoutMs = 1000
        config.uplink = .http(uplinkSpec)
        let log = Logger(threshold: .error)
        let daemon: Daemon
        do { daemon = try Daemon(config: config, uplink: try makeUplink(config, log: log), log: log) } catch {
            printError("vigil demo: cannot start the agent: \(error)")
            return ExitCode.failed
        }
        say("vigil demo: simulator on \(bus.transport.endpointName) (\(simulated.map(\.profile.name).joined(separator: ", ")))")
        say("            agent polling with \(path), journal in \(stateDir)/journal")
        say("            upstream: vigil receive on 127.0.0.1:\(receiver.port), writing \(receiverOptions.outPath!)")
        say("            in another shell: VIGIL_SOCKET=\(config.control.socket) vigil status (or values, alarms, diag frames --bus \(bus.id))")
        say("Ctrl-C to stop.\n")
        daemon.start()

        let outageStart = duration / 3, outageEnd = duration / 3 + outage
        var elapsed = 0.0
        var interrupted = false
        while elapsed < duration && !interrupted {
            if outage > 0 && elapsed >= outageStart && elapsed < outageStart + 1 {
                receiver.setOutage(true)
                say("*** uplink cut for \(Int(outage)) s: readings pile up in the journal")
            }
            if outage > 0 && elapsed >= outageEnd && elapsed < outageEnd + 1 {
                receiver.setOutage(false)
                say("*** uplink back: the backlog drains, events first")
            }
            interrupted = Signals.wait(upToSeconds: min(1, duration - elapsed)) != nil
            elapsed += 1
            let stats = daemon.journal.stats
            let waiting = stats.pending.values.reduce(0, +)
            let delivered = receiver.counters.readings + receiver.counters.events
            say("[\(Int(elapsed)) s] accepted \(stats.lastSeq), waiting in the journal \(waiting), delivered \(delivered)")
        }
        receiver.setOutage(false)
        daemon.stop(drainSeconds: 10)
        let accepted = Int(daemon.journal.stats.lastSeq)
        let delivered = receiver.counters.readings + receiver.counters.events
        say("\nvigil demo: readings and events accepted \(accepted), delivered \(delivered), lost \(accepted - delivered)")
        return accepted == delivered ? ExitCode.ok : ExitCode.failed
    }

    /// One line a batch, with its events and a gas value to watch.
    @Sendable static func show(_ readings: [[UInt8]], _ events: [[UInt8]]) {
        func parse(_ bytes: [UInt8]) -> JSONNode? { try? JSON5Reader.parse(String(decoding: bytes, as: UTF8.self)) }
        var line = "    received \(readings.count) readings, \(events.count) events"
        for e in events.compactMap(parse) {
            guard case .string(let kind)? = e["event"]?.value, case .string(let device)? = e["device"]?.value else { continue }
            var what = "\(kind) \(device)"
            if case .string(let point)? = e["point"]?.value, case .string(let level)? = e["level"]?.value { what += " \(point) \(level)" }
            if case .number(let value)? = e["value"]?.value { what += " at \((value * 10).rounded() / 10)" }
            line += "  [\(what)]"
        }
        if let gas = readings.reversed().lazy.compactMap(parse).first(where: { if case .string("gas")? = $0["point"]?.value { true } else { false } }),
           case .number(let v)? = gas["value"]?.value {
            line += "  gas \((v * 10).rounded() / 10) %LEL"
        }
        say(line)
    }
}

import Glibc
import Synchronization
import VigilAgent
import VigilCore

struct DemoCommand: Command {
    static let name = "demo"
    static let summary = "simulated gas, level and smoke sensors polled by the agent"
    static let usage = """
        vigil demo [--duration SECONDS] [--config FILE]

          --duration SECONDS  stop after this long (default: until Ctrl-C)
          --config FILE       the demo config (default: the shipped Examples/demo.json5)

        Starts `vigil simulate` with the devices of the demo config on its TCP
        bus, runs the agent against it, and prints readings as they arrive.
        """

    var duration: Double?
    var configPath: String?

    init(_ arguments: inout Arguments) throws(UsageError) {
        duration = try Arguments.number(arguments.option("--duration"), "--duration")
        configPath = try arguments.option("--config")
    }

    func run() -> Int32 {
        guard let path = configPath ?? Resources.example("demo.json5") else {
            printError("vigil demo: Examples/demo.json5 not found (set VIGIL_SHARE_DIR to the directory holding Profiles/ and Examples/)")
            return ExitCode.failed
        }
        guard let config = loadConfig(path) else { return ExitCode.usage }
        guard let bus = config.buses.first, case .tcp = bus.transport else {
            printError("vigil demo: \(path) needs a tcp bus for the simulator")
            return ExitCode.usage
        }
        var simulated: [SimulatedDevice] = []
        let library = Resources.profileLibrary()
        for device in config.devices(on: bus.id) {
            guard let name = device.profile, let file = library.resolve(name, relativeTo: directoryName(of: path)),
                  case .success(let profile) = library.load(file: file) else { continue }
            simulated.append(SimulatedDevice(unit: device.unit, profile: profile))
        }

        Signals.blockTermination()
        let simulator = Simulator(transport: bus.transport, devices: simulated)
        do { try simulator.start() } catch {
            printError("vigil demo: cannot start the simulator on \(bus.transport.endpointName): \(error)")
            return ExitCode.failed
        }
        let sink = DemoSink()
        let agent = Agent(config: config, sink: sink)
        say("vigil demo: simulator on \(bus.transport.endpointName) serving \(simulated.map(\.profile.name).joined(separator: ", ")); polling with \(path)")
        say("Ctrl-C to stop.\n")
        agent.start()
        _ = Signals.wait(upToSeconds: duration)
        agent.stop()
        simulator.stop()
        let totals = sink.totals
        say("\nvigil demo: \(totals.readings) readings (\(totals.good) good, \(totals.readings - totals.good) bad), \(totals.events) events")
        return ExitCode.ok
    }
}

/// Prints readings as short aligned lines, for people watching the demo.
final class DemoSink: RecordSink {
    struct Totals { var readings = 0, good = 0, events = 0 }
    private let state = Mutex(Totals())

    var totals: Totals { state.withLock { $0 } }

    func accept(_ records: [Record]) {
        state.withLock { totals in
            var text = ""
            for record in records {
                switch record {
                case .reading(let r):
                    totals.readings += 1
                    if r.quality == .good { totals.good += 1 }
                    let time = String(r.timestamp.iso8601.dropFirst(11).prefix(12))
                    let value = RecordJSON.valueText(r.value)
                    let shown = [value, r.unit ?? "", r.label.map { "(\($0))" } ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
                    text += "\(time)  \(pad(r.device, 10)) \(pad(r.point, 14)) \(pad(shown, 22)) \(r.quality.rawValue)\(r.error.map { ": \($0)" } ?? "")\n"
                case .event(let e):
                    totals.events += 1
                    text += "\(String(e.timestamp.iso8601.dropFirst(11).prefix(12)))  ** \(e.kind.rawValue) \(e.device ?? e.bus ?? "")\(e.detail.map { ": \($0)" } ?? "")\n"
                }
            }
            say(text, terminator: "")
        }
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}

import Glibc
import VigilAgent
import VigilLab

struct SimulateCommand: Command {
    static let name = "simulate"
    static let summary = "serve simulated sensors over Modbus TCP or RTU"
    static let usage = """
        vigil simulate (--tcp HOST:PORT | --rtu-over-tcp HOST:PORT
                        | --rtu DEVICE [--baud N] [--parity none|even|odd] [--data-bits N] [--stop-bits N])
                       --device UNIT:PROFILE[:FAULT] ... [--freeze] [--duration SECONDS]

          --device UNIT:PROFILE[:FAULT]
                 a simulated sensor at that unit id, with the registers of the
                 profile (a name from Profiles/ or a path); repeat for more.
                 FAULT: silent | exception[:CODE] | slow[:MS]
          --freeze  keep every value fixed (to compare two readers)
          --start-at SECONDS  start this far along the curves (e.g. 10: gas rises at once)
          --rtu-over-tcp HOST:PORT  play a serial device server in transparent mode (Moxa NPort,
                 USR-TCP232, a 4G DTU): RTU frames with their CRC over TCP, every --device behind it

        Values move like the real thing: gas drifting then spiking past 25 and
        50 %LEL every 40 s, a water level rising and falling, a smoke alarm bit
        going on and off. Over RTU every --device answers on the one line, as on a
        multi-drop RS-485 bus; frames for other units are ignored.
        """

    var transport: BusTransport
    var deviceSpecs: [(unit: Int, profile: String, fault: SimulatedFault)]
    var freeze: Bool
    var startAt: Double
    var duration: Double?

    init(_ arguments: inout Arguments) throws(UsageError) {
        let tcp = try arguments.option("--tcp")
        let rtu = try arguments.option("--rtu")
        let rtuOverTCP = try arguments.option("--rtu-over-tcp")
        switch (tcp, rtu, rtuOverTCP) {
        case (let endpoint?, nil, nil):
            transport = try Self.parseTCP(endpoint)
        case (nil, nil, let endpoint?):
            guard case .tcp(let host, let port) = try Self.parseTCP(endpoint, option: "--rtu-over-tcp") else { throw UsageError("--rtu-over-tcp HOST:PORT") }
            transport = .rtuOverTCP(host: host, port: port, gapMs: 0)
        case (nil, let device?, nil):
            let baud = try Arguments.number(arguments.option("--baud"), "--baud", as: Int.self) ?? 9600
            let parity: Parity = try Arguments.choice(arguments.option("--parity"), "--parity") ?? .none
            let dataBits = try Arguments.number(arguments.option("--data-bits"), "--data-bits", as: Int.self) ?? 8
            let stopBits = try Arguments.number(arguments.option("--stop-bits"), "--stop-bits", as: Int.self) ?? 1
            transport = .rtu(SerialSettings(device: device, baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits))
        default:
            throw UsageError("give exactly one of --tcp HOST:PORT, --rtu-over-tcp HOST:PORT or --rtu DEVICE")
        }
        deviceSpecs = []
        for text in try arguments.options("--device") {
            let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
            guard parts.count >= 2, let unit = Int(parts[0]), (0...255).contains(unit) else {
                throw UsageError("--device \(text): expected UNIT:PROFILE[:FAULT] with a unit id 0–255")
            }
            var fault = SimulatedFault.none
            if parts.count == 3 {
                guard let f = SimulatedFault(parsing: parts[2]) else { throw UsageError("--device \(text): fault must be silent, exception[:CODE] or slow[:MS]") }
                fault = f
            }
            deviceSpecs.append((unit, parts[1], fault))
        }
        if deviceSpecs.isEmpty { throw UsageError("give at least one --device UNIT:PROFILE") }
        freeze = arguments.flag("--freeze")
        startAt = try Arguments.number(arguments.option("--start-at"), "--start-at") ?? 0
        duration = try Arguments.number(arguments.option("--duration"), "--duration")
    }

    static func parseTCP(_ endpoint: String, option: String = "--tcp", allowPortZero: Bool = false) throws(UsageError) -> BusTransport {
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]),
              ((allowPortZero ? 0 : 1)...65535).contains(port) else {
            throw UsageError("\(option) \(endpoint): expected HOST:PORT")
        }
        return .tcp(host: String(endpoint[..<colon]), port: port)
    }

    func run() -> Int32 {
        let library = Resources.profileLibrary()
        var devices: [SimulatedDevice] = []
        for spec in deviceSpecs {
            guard let file = library.resolve(spec.profile, relativeTo: ".") else {
                printError("vigil simulate: unknown profile \"\(spec.profile)\"; known: \(library.names().joined(separator: ", "))")
                return ExitCode.usage
            }
            switch library.load(file: file) {
            case .success(let profile): devices.append(SimulatedDevice(unit: spec.unit, profile: profile, fault: spec.fault))
            case .failure(let errors):
                printError(errors.description)
                return ExitCode.usage
            }
        }
        Signals.blockTermination()
        let simulator = Simulator(transport: transport, devices: devices, frozen: freeze, startAt: startAt)
        do { try simulator.start() } catch {
            printError("vigil simulate: \(error)")
            return ExitCode.failed
        }
        let listing = devices.map { "unit \($0.unit) \($0.profile.name)\($0.fault == .none ? "" : " (\($0.fault))")" }.joined(separator: ", ")
        printError("vigil simulate: serving \(listing) on \(transport.endpointName)")
        _ = Signals.wait(upToSeconds: duration)
        simulator.stop()
        return ExitCode.ok
    }
}

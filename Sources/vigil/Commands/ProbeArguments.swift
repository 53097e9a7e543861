import VigilAgent

/// Where a diagnostic request goes and what it asks, from the command line:
/// `--bus ID` (through the agent that owns it), or `--tcp HOST[:PORT]` /
/// `--rtu DEVICE --baud N --parity P` (through the agent when one of its buses
/// is that line, else opened directly).
struct ProbeTarget {
    enum Route { case bus(String), direct(BusTransport) }
    var route: Route
    var timeoutMs: Int?
    /// The config that says which lines the agent owns, for when it does not answer.
    var configPath: String
    /// Open the line even though the agent's config names it (the agent is known to be stopped).
    var forceDirect: Bool

    static let usage = """
          --bus ID                 a bus of the running agent: the request goes through its worker, between polls
          --tcp HOST[:PORT]        a Modbus TCP endpoint (port 502 by default)
          --rtu-over-tcp HOST:PORT a serial device server in transparent mode (RTU frames over TCP)
          --rtu DEVICE             a serial line, with --baud N (9600) --parity none|even|odd (none)
                                   --data-bits N (8) --stop-bits N (1)
          --timeout-ms N           the answer's timeout (default: the bus's, or 1000)
          --config FILE            the agent's config (default \(ConfigLoader.defaultPath)): a line it names
                                   is never opened a second time; when the agent does not answer, the
                                   command refuses, unless --direct says the agent is stopped
        """

    init(_ a: inout Arguments) throws(UsageError) {
        let bus = try a.option("--bus"), tcp = try a.option("--tcp"), rtu = try a.option("--rtu"), rtuOverTCP = try a.option("--rtu-over-tcp")
        timeoutMs = try Arguments.number(a.option("--timeout-ms"), "--timeout-ms")
        let baud = try Arguments.number(a.option("--baud"), "--baud") ?? 9600
        let parityText = try a.option("--parity") ?? "none"
        let dataBits = try Arguments.number(a.option("--data-bits"), "--data-bits") ?? 8
        let stopBits = try Arguments.number(a.option("--stop-bits"), "--stop-bits") ?? 1
        configPath = try a.option("--config") ?? ConfigLoader.defaultPath
        forceDirect = a.flag("--direct")
        guard [bus, tcp, rtu, rtuOverTCP].compactMap({ $0 }).count == 1 else {
            throw UsageError("give exactly one of --bus, --tcp, --rtu, --rtu-over-tcp")
        }
        if let bus { route = .bus(bus); return }
        if let rtuOverTCP {
            guard case .tcp(let host, let port) = try SimulateCommand.parseTCP(rtuOverTCP, option: "--rtu-over-tcp") else { throw UsageError("--rtu-over-tcp HOST:PORT") }
            route = .direct(.rtuOverTCP(host: host, port: port, gapMs: BusTransport.deviceServerDefaultGapMs))
            return
        }
        if let tcp {
            let parts = tcp.split(separator: ":").map(String.init)
            guard parts.count <= 2, let host = parts.first, let port = parts.count == 2 ? Int(parts[1]) : 502 else {
                throw UsageError("--tcp: expected HOST or HOST:PORT, got '\(tcp)'")
            }
            route = .direct(.tcp(host: host, port: port))
            return
        }
        let parity: Parity = try Arguments.choice(parityText, "--parity")!
        route = .direct(.rtu(SerialSettings(device: rtu!, baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits)))
    }

    /// Runs one probe the right way; `note` hears which way.
    func run(_ probe: ModbusProbe, client: ControlClient) throws(ControlClient.Failure) -> ProbeAnswer {
        var probe = probe
        probe.timeoutMs = probe.timeoutMs ?? timeoutMs
        switch route {
        case .bus(let id):
            return try send(probe, bus: id, client: client)
        case .direct(let transport):
            // The agent owns that line, by whatever name: never open it a second time.
            let line = LineIdentity(transport)
            if client.isReachable, let status = try? client.send(ControlRequest("status"), as: StatusReport.self) {
                if let owner = status.buses.first(where: { LineIdentity(endpoint: $0.endpoint).isSameLine(as: line) }) {
                    return try send(probe, bus: owner.id, client: client)
                }
            } else if !forceDirect, let owner = configuredOwner(of: line) {
                throw ControlClient.Failure(description: """
                    \(transport.endpointName) is bus \(owner) in \(configPath), but the agent does not answer on \(client.socket): \
                    opening the line beside it would garble its polls. Use the agent's socket (--socket), or, \
                    if the agent is stopped (systemctl stop vigil), add --direct.
                    """, code: ControlCode.failed)
            }
            return runDirectProbe(probe, transport: transport, timeoutMs: timeoutMs ?? 1000)
        }
    }

    /// The bus of the agent's config on this line, if the config can be read.
    private func configuredOwner(of line: LineIdentity) -> String? {
        guard case .success(let config) = ConfigLoader(profiles: Resources.profileLibrary(), boards: Resources.boardLibrary()).load(file: configPath)
        else { return nil }
        return config.buses.first { LineIdentity($0.transport).isSameLine(as: line) }?.id
    }

    private func send(_ probe: ModbusProbe, bus: String, client: ControlClient) throws(ControlClient.Failure) -> ProbeAnswer {
        var request = ControlRequest("probe")
        request.bus = bus
        request.probe = probe
        return try client.send(request, as: ProbeAnswer.self)
    }
}

/// `--unit`, `--table`, `--address` (or `--register 40003`), `--count`, `--type`, `--order`.
struct RegisterSelection {
    var unit: Int
    var table: RegisterTable
    var address: Int
    var type: ValueType?
    var order: WordOrder
    var count: Int

    static let usage = """
          --unit N                 the unit id (default 1)
          --table T                coil, discrete, holding (default) or input
          --address A              0-based protocol address, or --register 40003 (manual numbering)
          --count N                registers or bits (default: one value of --type, else 1)
          --type T                 decode as bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, string
          --order O                abcd (default), cdab, badc or dcba
        """

    init(_ a: inout Arguments, countDefault: Int? = nil) throws(UsageError) {
        unit = try Arguments.number(a.option("--unit"), "--unit") ?? 1
        guard (0...255).contains(unit) else { throw UsageError("--unit: \(unit) is outside 0…255") }
        let tableText = try a.option("--table")
        var table: RegisterTable = try Arguments.choice(tableText, "--table") ?? .holding
        if let register: Int = try Arguments.number(a.option("--register"), "--register") {
            guard let (t, address) = PointParser.decodeManualRegister(register) else { throw UsageError("--register: \(register) is not in the manual numbering (00001–09999 coils, 10001–19999, 30001–39999, 40001–49999, or six digits)") }
            if tableText != nil && t != table { throw UsageError("--register \(register) is in the \(t.rawValue) table, not \(table.rawValue)") }
            table = t
            self.address = address
        } else {
            guard let address: Int = try Arguments.number(a.option("--address"), "--address") else { throw UsageError("--address (or --register) is required") }
            self.address = address
        }
        guard (0...65535).contains(address) else { throw UsageError("--address: \(address) is outside 0…65535") }
        self.table = table
        type = try Arguments.choice(a.option("--type"), "--type")
        order = try Arguments.choice(a.option("--order"), "--order") ?? .abcd
        count = try Arguments.number(a.option("--count"), "--count") ?? countDefault ?? (table.isBitTable ? 1 : type?.fixedRegisterCount ?? 1)
        guard (1...(table.isBitTable ? 2000 : 125)).contains(count) else { throw UsageError("--count: at most \(table.isBitTable ? 2000 : 125) per request") }
    }
}

/// Loads `vigil.json5`: reads JSON5, validates every part, resolves profiles,
/// and returns a `VigilConfig` or every problem found.
public struct ConfigLoader: Sendable {
    public static let defaultPath = "/etc/vigil/vigil.json5"
    public static let defaultStateDir = "/var/lib/vigil"

    public var profiles: ProfileLibrary
    public var boards: BoardLibrary
    /// The machine id and the files' modes: what `parse` knows of the machine.
    public var environment: ConfigEnvironment

    public init(profiles: ProfileLibrary, boards: BoardLibrary = BoardLibrary(directories: []), environment: ConfigEnvironment = .system()) {
        self.profiles = profiles
        self.boards = boards
        self.environment = environment
    }

    public func load(file: String) -> Result<VigilConfig, ConfigErrors> {
        do {
            return parse(try readTextFile(file), file: file)
        } catch {
            return .failure(ConfigErrors([ConfigIssue(file: file, location: nil, path: "", message: "cannot read: \(error.reason)")]))
        }
    }

    public func parse(_ text: String, file: String) -> Result<VigilConfig, ConfigErrors> {
        let root: JSONNode
        do { root = try JSON5Reader.parse(text) } catch {
            return .failure(ConfigErrors([ConfigIssue(file: displayName(file), location: error.location, path: "", message: error.message)]))
        }
        let diagnostics = Diagnostics(file: displayName(file))
        var validation = Validation(loader: self, file: file, diagnostics: diagnostics)
        let config = validation.run(root)
        if let config, diagnostics.issues.isEmpty { return .success(config) }
        return .failure(ConfigErrors(diagnostics.issues))
    }

    private func displayName(_ file: String) -> String { file }
}

/// One validation pass over a config tree.
private struct Validation {
    let loader: ConfigLoader
    let file: String
    let diagnostics: Diagnostics
    var loadedProfiles: [String: Profile?] = [:]
    var warnings: [String] = []

    init(loader: ConfigLoader, file: String, diagnostics: Diagnostics) {
        self.loader = loader; self.file = file; self.diagnostics = diagnostics
    }

    static let topKeys = ["gateway", "buses", "devices", "uplink", "journal", "watchdog", "inputs", "outputs", "actions", "status_led", "control"]
    static let watchdogKeys = ["grace_s", "device", "timeout_s"]
    static let gatewayKeys = ["id", "state_dir", "board"]
    static let busKeys = ["id", "kind", "device", "port", "baud", "parity", "data_bits", "stop_bits", "rs485", "gap_ms",
                          "host", "port", "timeout_ms", "retries", "max_registers"]
    // "port" is both: a board's serial port label on rtu, a TCP port number on tcp.
    static let rtuOnlyKeys = ["device", "baud", "parity", "data_bits", "stop_bits", "rs485", "gap_ms"]
    static let tcpOnlyKeys = ["host"]
    /// rtu-over-tcp: the device server's host and port, and the gap of the line behind it.
    static let rtuOverTCPKeys = ["id", "kind", "host", "port", "gap_ms", "timeout_ms", "retries", "max_registers"]
    static let deviceKeys = ["id", "bus", "unit", "profile", "points", "interval_ms", "enabled", "max_gap", "offline_after", "report", "cloud"]
    /// Keys every uplink that leaves the gateway takes; then each kind's own.
    static let sharedUplinkKeys = ["url", "format", "ca_file", "client_cert", "client_key", "insecure", "batch_max_records",
                                   "batch_max_bytes", "flush_ms", "gzip", "timeout_ms", "heartbeat_s", "send_raw"]
    static let uplinkKeysByKind: [UplinkKind: [String]] = [
        .http: ["token_file", "measurement"],
        .mqtt: ["client_id", "username", "password_file", "protocol", "qos", "keepalive_s", "session_expiry_s", "topic_prefix", "inflight",
                "token_file", "commands", "group_id", "edge_node_id", "primary_host_id", "product_key", "device_name", "device_secret_file",
                "device_id", "service_id", "child_product_id", "child_ids", "product_id", "token_method"],
        .hj212: ["st", "mn", "device_mn", "password_file", "codes", "utc_offset", "alarm_events", "minute_data", "hour_data"],
    ]
    /// Shared keys HJ 212 has no use for: it is plain TCP in one format.
    static let notHJ212Keys = ["format", "ca_file", "client_cert", "client_key", "insecure", "gzip", "send_raw"]
    /// Keys of every uplink kind, stdout included.
    static let anyUplinkKeys = ["kind", "report"]
    static let uplinkKeys = anyUplinkKeys + sharedUplinkKeys + UplinkKind.allCases.flatMap { uplinkKeysByKind[$0] ?? [] }
    /// The formats each transport can carry.
    static let formatsByKind: [UplinkKind: [UplinkFormat]] = [.stdout: [.vigil], .http: [.vigil, .influx], .mqtt: [.vigil, .thingsboard, .sparkplugB, .alink, .iotda, .onenet],
                                                             .hj212: []]
    static let journalKeys = ["max_bytes", "max_age_s", "commit_ms", "segment_bytes"]

    enum BusKind: String, CaseIterable { case rtu, tcp, rtuOverTCP = "rtu-over-tcp" }
    enum UplinkKind: String, CaseIterable { case stdout, http, mqtt, hj212 }

    mutating func run(_ root: JSONNode) -> VigilConfig? {
        guard let r = ObjectReader(root, path: "", diagnostics: diagnostics, keys: Self.topKeys) else { return nil }
        let gateway = parseGateway(r.object("gateway", keys: Self.gatewayKeys))
        let buses = (r.array("buses", required: true) ?? []).compactMap { parseBus($0.node, path: $0.path, board: gateway?.board) }
        checkUnique(buses.map(\.id), items: r.array("buses") ?? [], what: "bus")
        checkSerialOwnership(buses, items: r.array("buses") ?? [])
        var devices: [DeviceSpec] = []
        for (node, path) in r.array("devices", required: true) ?? [] {
            if let device = parseDevice(node, path: path, buses: buses) { devices.append(device) }
        }
        checkUnique(devices.map(\.id), items: r.array("devices") ?? [], what: "device")
        checkUnits(devices, items: r.array("devices") ?? [])
        let uplinkReader = r.object("uplink", keys: Self.uplinkKeys)
        let uplink = parseUplink(uplinkReader, devices: devices)
        if case .mqtt(let spec) = uplink, spec.format == .alink || spec.format == .onenet {
            checkThingModelIdentifiers(devices, items: r.array("devices") ?? [])
        }
        if case .mqtt(let spec) = uplink, spec.format == .alink {} else {
            for (node, path) in r.array("devices") ?? [] where node["cloud"] != nil {
                diagnostics.report(path + ".cloud", at: node["cloud"]?.location, "a device's own cloud identity needs the uplink { kind: \"mqtt\", format: \"alink\" }")
            }
        }
        let report = uplinkReader?.object("report", keys: ReportPolicy.keys).flatMap(ReportPolicy.parse)
        let journal = parseJournal(r.object("journal", keys: Self.journalKeys))
        var watchdog = WatchdogSpec()
        if let w = r.object("watchdog", keys: Self.watchdogKeys) {
            watchdog.graceSeconds = w.integer("grace_s", range: 1...3600) ?? watchdog.graceSeconds
            watchdog.device = w.string("device")
            watchdog.timeoutSeconds = w.integer("timeout_s", range: 1...600) ?? watchdog.timeoutSeconds
            if let board = gateway?.board, let max = board.watchdogMaxTimeoutSeconds, watchdog.device != nil, watchdog.timeoutSeconds > max {
                w.report("timeout_s", "\(watchdog.timeoutSeconds) s is more than board \"\(board.name)\"'s watchdog allows (\(max) s)")
            }
        }
        var control = ControlSpec()
        if let c = r.object("control", keys: ["socket", "group"]) {
            control.socket = c.string("socket") ?? control.socket
            control.group = c.string("group") ?? control.group
            if !control.socket.hasPrefix("/") { c.report("socket", "expected an absolute path, such as \(ControlSpec.defaultSocket)") }
        }
        let gpio = GPIOConfigParser(diagnostics: diagnostics, board: gateway?.board).parse(r, devices: devices)
        guard let gateway else { return nil }
        var config = VigilConfig(file: file, gateway: gateway, buses: buses, devices: devices, uplink: uplink, journal: journal)
        config.watchdog = watchdog
        config.gpio = gpio
        config.control = control
        config.report = report
        config.warnings = warnings
        return config
    }

    private func parseGateway(_ r: ObjectReader?) -> GatewaySpec? {
        var id = r?.string("id")
        if let given = id, !isValidID(given) {
            r?.report("id", "\"\(given)\" may contain only letters, digits, '.', '_' and '-'")
        }
        if id == nil {
            id = loader.environment.machineID
            if id?.isEmpty ?? true {
                diagnostics.report("gateway.id", at: r?.node.location, "is not set and \(loader.environment.machineIDSource) cannot be read; give the gateway an id")
                return nil
            }
        }
        let stateDir = r?.string("state_dir") ?? ConfigLoader.defaultStateDir
        if !stateDir.hasPrefix("/") { r?.report("state_dir", "must be an absolute path, not \"\(stateDir)\"") }
        var board: Board?
        if let r, let reference = r.string("board") {
            if let path = loader.boards.resolve(reference, relativeTo: directoryName(of: file)) {
                switch loader.boards.loadBoard(file: path) {
                case .success(let b): board = b
                case .failure(let errors):
                    diagnostics.absorb(errors.issues)
                    r.report("board", "board \"\(reference)\" (\(path)) has \(errors.issues.count) error(s), listed above")
                }
            } else {
                let known = loader.boards.names()
                let hint = closestMatch(to: reference, in: known).map { "; did you mean \"\($0)\"?" } ?? "; known boards: \(known.joined(separator: ", "))"
                r.report("board", "unknown board \"\(reference)\"\(hint)")
            }
        }
        return GatewaySpec(id: id!, stateDir: stateDir, board: board)
    }

    private func parseBus(_ node: JSONNode, path: String, board: Board?) -> BusSpec? {
        guard let r = ObjectReader(node, path: path, diagnostics: diagnostics, keys: Self.busKeys) else { return nil }
        let before = diagnostics.issues.count
        let id = checkedID(r)
        let kind = r.choice("kind", required: true, as: BusKind.self)
        let timeoutMs = r.integer("timeout_ms", range: 10...60_000) ?? BusSpec.defaultTimeoutMs
        let retries = r.integer("retries", range: 0...10) ?? BusSpec.defaultRetries
        let maxRegisters = r.integer("max_registers", range: 1...125) ?? BusSpec.defaultMaxRegisters
        var transport: BusTransport?
        switch kind {
        case .rtu:
            for key in Self.tcpOnlyKeys where r.has(key) { r.report(key, "applies only to tcp buses") }
            var device = r.string("device")
            var rs485 = r.bool("rs485") ?? false
            if let label = r.string("port") {
                if device != nil { r.report("port", "give either \"port\" (a board label) or \"device\", not both") }
                if let board {
                    if let port = board.serialPorts.first(where: { $0.label == label }) {
                        device = port.device
                        if !r.has("rs485") { rs485 = port.rs485 == .kernel }
                    } else {
                        let labels = board.serialPorts.map(\.label)
                        let hint = closestMatch(to: label, in: labels).map { "; did you mean \"\($0)\"?" } ?? "; its serial ports: \(labels.joined(separator: ", "))"
                        r.report("port", "board \"\(board.name)\" has no serial port \"\(label)\"\(hint)")
                    }
                } else {
                    r.report("port", "a port label needs gateway.board (or give \"device\")")
                }
            } else if device == nil {
                r.report("device", "is required (a serial device such as /dev/ttyUSB0), or \"port\" with a board label")
            }
            let baud = r.integer("baud", range: 110...4_000_000) ?? SerialSettings.defaultBaud
            if !SerialSettings.baudRates.contains(baud), r.has("baud") {
                let nearest = SerialSettings.baudRates.min { abs($0 - baud) < abs($1 - baud) } ?? SerialSettings.defaultBaud
                r.report("baud", "\(baud) is not a rate the serial driver has (libmodbus would quietly use 9600); did you mean \(nearest)? "
                         + "One of \(SerialSettings.baudRates.map(String.init).joined(separator: ", "))")
            }
            let parity = r.choice("parity", as: Parity.self) ?? .none
            let dataBits = r.integer("data_bits", range: 5...8) ?? SerialSettings.defaultDataBits
            let stopBits = r.integer("stop_bits", range: 1...2) ?? SerialSettings.defaultStopBits
            let gap = r.number("gap_ms", range: 0...1000)
                ?? SerialSettings.defaultGapMs(baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits)
            if let device {
                transport = .rtu(SerialSettings(device: device, baud: baud, parity: parity, dataBits: dataBits,
                                                stopBits: stopBits, rs485: rs485, gapMs: gap))
            }
        case .tcp:
            for key in Self.rtuOnlyKeys where r.has(key) { r.report(key, "applies only to rtu buses") }
            let host = r.string("host", required: true)
            let port = r.integer("port", range: 1...65535) ?? 502
            if let host { transport = .tcp(host: host, port: port) }
        case .rtuOverTCP:
            for key in Self.busKeys where !Self.rtuOverTCPKeys.contains(key) && r.has(key) {
                r.report(key, "applies only to rtu buses (the serial settings live in the device server)")
            }
            let host = r.string("host", required: true)
            // No default port: every device server maker picks its own (NPort 4001, USR-TCP232 8899).
            let port = r.integer("port", required: true, range: 1...65535)
            let gap = r.number("gap_ms", range: 0...1000) ?? BusTransport.deviceServerDefaultGapMs
            if let host, let port { transport = .rtuOverTCP(host: host, port: port, gapMs: gap) }
        case nil:
            break
        }
        guard diagnostics.issues.count == before, let id, let transport else { return nil }
        return BusSpec(id: id, transport: transport, timeoutMs: timeoutMs, retries: retries, maxRegisters: maxRegisters)
    }

    private mutating func parseDevice(_ node: JSONNode, path: String, buses: [BusSpec]) -> DeviceSpec? {
        guard let r = ObjectReader(node, path: path, diagnostics: diagnostics, keys: Self.deviceKeys) else { return nil }
        let before = diagnostics.issues.count
        let id = checkedID(r)
        if id == GPIOSpec.device { r.report("id", "\"\(GPIOSpec.device)\" is reserved for the gateway's own inputs; choose another id") }
        let busID = r.string("bus", required: true)
        let bus = busID.flatMap { b in buses.first { $0.id == b } }
        if let busID, bus == nil {
            let hint = closestMatch(to: busID, in: buses.map(\.id)).map { "; did you mean \"\($0)\"?" } ?? ""
            r.report("bus", "no bus has the id \"\(busID)\"\(hint)")
        }
        var unitRange = 1...247
        if let transport = bus?.transport, !transport.isRTUFramed { unitRange = 0...255 }
        let unit = r.integer("unit", required: true, range: unitRange)
        let intervalMs = r.integer("interval_ms", range: 10...86_400_000) ?? DeviceSpec.defaultIntervalMs
        let enabled = r.bool("enabled") ?? true
        let maxGap = r.integer("max_gap", range: 0...125) ?? DeviceSpec.defaultMaxGap
        let offlineAfter = r.integer("offline_after", range: 1...1000) ?? DeviceSpec.defaultOfflineAfter

        let profileName = r.string("profile")
        let profile = profileName.flatMap { loadProfile($0, reader: r) }
        let profilePoints = profile?.points ?? []
        let inline = r.array("points") ?? []
        let inlinePoints = inline.compactMap { PointParser.parse($0.node, path: $0.path, diagnostics: diagnostics) }
        if profileName == nil && !r.has("points") {
            diagnostics.report(path, at: node.location, "a device needs a \"profile\" or \"points\"")
        }
        // An inline point with a profile point's id replaces it.
        let inlineIDs = Set(inlinePoints.map(\.id))
        let points = profilePoints.filter { !inlineIDs.contains($0.id) } + inlinePoints
        PointSetChecks.checkDuplicates(locations: inline, diagnostics: diagnostics)
        if let profile, let id = r.string("id") {
            checkAlarmStandards(points, profile: profile, device: id, reader: r, inline: inline)
        }
        PointSetChecks.checkDecimalsSources(points, pathPrefix: r.childPath("points"), locations: inline, diagnostics: diagnostics)
        if let bus {
            for point in points where !point.table.isBitTable && point.width > bus.maxRegisters {
                let loc = inline.first { pointID($0.node) == point.id }
                diagnostics.report(loc?.path ?? r.childPath("points"), at: loc?.node.location ?? node.location,
                                   "point \"\(point.id)\" is \(point.width) registers wide, more than bus \"\(bus.id)\" allows per request (max_registers \(bus.maxRegisters))")
            }
        }
        let report = r.object("report", keys: ReportPolicy.keys).flatMap(ReportPolicy.parse)
        let cloud = r.object("cloud", keys: ["product_key", "device_name", "device_secret_file"]).flatMap { c -> CloudIdentity? in
            let productKey = alinkName(c, "product_key"), deviceName = alinkName(c, "device_name")
            guard let secret = c.string("device_secret_file", required: true) else { return nil }
            checkSecretFile(c, "device_secret_file", secret)
            guard let productKey, let deviceName else { return nil }
            return CloudIdentity(productKey: productKey, deviceName: deviceName, deviceSecretFile: secret)
        }
        guard diagnostics.issues.count == before, let id, let busID, let unit else { return nil }
        var device = DeviceSpec(id: id, bus: busID, unit: unit, profile: profileName, points: points, intervalMs: intervalMs,
                                enabled: enabled, maxGap: maxGap, offlineAfter: offlineAfter)
        device.model = profile.map { "\($0.manufacturer) \($0.model)" }
        device.report = report
        device.cloud = cloud
        return device
    }

    private mutating func loadProfile(_ reference: String, reader r: ObjectReader) -> Profile? {
        if let cached = loadedProfiles[reference] { return cached }
        let baseDirectory = directoryName(of: file)
        guard let path = loader.profiles.resolve(reference, relativeTo: baseDirectory) else {
            let known = loader.profiles.names()
            let hint = closestMatch(to: reference, in: known).map { "; did you mean \"\($0)\"?" }
                ?? (known.isEmpty ? "; no profiles found in \(loader.profiles.directories.joined(separator: ", "))" : "; known profiles: \(known.joined(separator: ", "))")
            r.report("profile", "unknown profile \"\(reference)\"\(hint)")
            loadedProfiles[reference] = .some(nil)
            return nil
        }
        switch loader.profiles.load(file: path) {
        case .success(let profile):
            loadedProfiles[reference] = profile
            return profile
        case .failure(let errors):
            diagnostics.absorb(errors.issues)
            r.report("profile", "profile \"\(reference)\" (\(path)) has \(errors.issues.count) error(s), listed above")
            loadedProfiles[reference] = .some(nil)
            return nil
        }
    }

    /// GB/T 50493-2019: combustible gas alarms at most 25 %LEL (first level)
    /// and 50 %LEL (second); toxic gas at most 100 % and 200 % of the OEL.
    /// Above that only with `allow_above_standard: true`, warned at every start.
    private mutating func checkAlarmStandards(_ points: [PointSpec], profile: Profile, device: String, reader r: ObjectReader,
                                              inline: [(node: JSONNode, path: String)]) {
        let limits: (first: Double, second: Double, unit: String, what: String)
        switch profile.kind {
        case .combustibleGas: limits = (25, 50, "%LEL", "combustible gas")
        case .toxicGas:
            guard let oel = profile.oel else { return }
            limits = (oel, 2 * oel, profile.primaryPoint?.unit ?? "", "toxic gas (OEL \(format(oel)))")
        case .waterLevel, .smoke: return
        }
        for point in points where point.id == profile.primary || point.unit == limits.unit {
            guard let alarms = point.alarms else { continue }
            let place = inline.first { node in
                if case .object(let m) = node.node.value, let id = m.first(where: { $0.key == "id" }), case .string(point.id) = id.value.value { return true }
                return false
            }
            let path = place.map { "\($0.path).alarms" } ?? r.childPath("profile")
            for (name, value, limit, level) in [("high", alarms.high, limits.first, "first"), ("highhigh", alarms.highHigh, limits.second, "second")] {
                guard let value, value > limit else { continue }
                let message = "\(format(value)) \(limits.unit) is above GB/T 50493-2019's \(level) alarm limit for \(limits.what), \(format(limit)) \(limits.unit)"
                if alarms.allowAboveStandard == true {
                    warnings.append("\(file): device \(device) point \(point.id): alarms.\(name) \(message) (allowed by allow_above_standard)")
                } else {
                    diagnostics.report("\(path).\(name)", at: place?.node.location ?? r.location(of: "profile"),
                                       "\(message); lower it, or set allow_above_standard: true")
                }
            }
        }
    }

    private mutating func parseUplink(_ r: ObjectReader?, devices: [DeviceSpec]) -> UplinkSpec {
        guard let r else { return .stdout }
        let kind = r.choice("kind", required: true, as: UplinkKind.self) ?? .stdout
        let own = Self.uplinkKeysByKind[kind] ?? []
        for key in Self.uplinkKeys where !Self.anyUplinkKeys.contains(key) && !Self.sharedUplinkKeys.contains(key) && !own.contains(key) && r.has(key) {
            let kinds = UplinkKind.allCases.filter { Self.uplinkKeysByKind[$0]?.contains(key) ?? false }.map(\.rawValue)
            r.report(key, "applies only to \(kinds.joined(separator: " and ")) uplinks, not \(kind.rawValue)")
        }
        if kind == .stdout {
            for key in Self.sharedUplinkKeys where r.has(key) { r.report(key, "applies only to uplinks that leave the gateway") }
            return .stdout
        }
        if kind == .hj212 {
            for key in Self.notHJ212Keys where r.has(key) { r.report(key, "does not apply to hj212 uplinks (plain TCP, in HJ 212's own format)") }
        }
        let format = kind == .hj212 ? .vigil : parseFormat(r, kind: kind)
        guard let url = r.string("url", required: true) else { return .stdout }
        let sendRaw = r.bool("send_raw") ?? true
        if r.has("send_raw") && format != .vigil { r.report("send_raw", "applies only to format vigil (\(format.rawValue) sends no raw registers)") }
        let batching = parseBatching(r)
        let tls = TLSFiles(caFile: r.string("ca_file"), clientCert: r.string("client_cert"), clientKey: r.string("client_key"))
        if tls.clientCert != nil && tls.clientKey == nil { r.report("client_key", "is required with client_cert") }
        for key in ["ca_file", "client_cert", "client_key"] {
            guard let path = r.string(key) else { continue }
            if loader.environment.fileMode(path) == nil { r.report(key, "\(path) does not exist") }
        }
        for key in ["token_file", "password_file", "device_secret_file"] where own.contains(key) {
            if let secret = r.string(key) { checkSecretFile(r, key, secret) }
        }
        switch kind {
        case .stdout:
            return .stdout
        case .http:
            if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                r.report("url", "\"\(url)\" must start with https:// (or http:// on a trusted network)")
            }
            var spec = HTTPUplinkSpec(url: url)
            spec.tokenFile = r.string("token_file")
            spec.caFile = tls.caFile; spec.clientCert = tls.clientCert; spec.clientKey = tls.clientKey
            spec.insecure = r.bool("insecure") ?? false
            spec.gzip = r.bool("gzip") ?? spec.gzip
            spec.batching = batching
            spec.format = format
            spec.sendRaw = sendRaw
            if let measurement = r.string("measurement") {
                if format != .influx { r.report("measurement", "applies only to format influx, not \(format.rawValue)") }
                if measurement.isEmpty || measurement.contains(where: { "\n\"".contains($0) }) {
                    r.report("measurement", "\"\(measurement)\" must be a non-empty name without quotes or newlines")
                }
                spec.measurement = measurement
            }
            if format == .influx, url.contains("precision="), !(url.contains("precision=ms") || url.contains("precision=millisecond")) {
                r.report("url", "Vigil writes millisecond timestamps: leave precision out (precision=ms is added), or give precision=ms (precision=millisecond on InfluxDB 3)")
            }
            return .http(spec)
        case .mqtt:
            let parsed = MQTTUplinkSpec.endpoint(url)
            if parsed == nil {
                r.report("url", "\"\(redactedURL(url))\" must be mqtts://HOST[:PORT] (or mqtt:// on a trusted network); credentials go in username and password_file")
            }
            // Checked on, so that every mistake is named at once.
            let endpoint = parsed ?? (host: "", port: 0, tls: url.hasPrefix("mqtts://"))
            var spec = MQTTUplinkSpec(url: url, host: endpoint.host, port: endpoint.port, tls: endpoint.tls)
            spec.format = format
            spec.sendRaw = sendRaw
            spec.clientID = r.string("client_id")
            spec.username = r.string("username")
            spec.passwordFile = r.string("password_file")
            spec.tokenFile = r.string("token_file")
            if spec.passwordFile != nil && spec.username == nil { r.report("password_file", "needs a username") }
            if spec.tokenFile != nil && format != .thingsboard {
                r.report("token_file", "on an MQTT uplink is a ThingsBoard access token (format: \"thingsboard\"); for format \(format.rawValue) give username and password_file")
            }
            if spec.tokenFile != nil && spec.username != nil { r.report("token_file", "the access token is the user name: give token_file or username, not both") }
            if format == .thingsboard && spec.tokenFile == nil && spec.username == nil {
                r.report("token_file", "format thingsboard needs the gateway device's access token (token_file) or its MQTT credentials (username, password_file)")
            }
            spec.commands = parseCommands(r.object("commands", keys: ["allow_writes"]), devices: devices)
            spec.caFile = tls.caFile; spec.clientCert = tls.clientCert; spec.clientKey = tls.clientKey
            spec.insecure = r.bool("insecure") ?? false
            if !spec.tls && (tls.caFile != nil || tls.clientCert != nil || spec.insecure) {
                r.report("url", "TLS settings (ca_file, client_cert, insecure) need an mqtts:// url")
            }
            // Alibaba's public instances speak 3.1.1, newer ones also 5; OneNET speaks 3.1.1.
            spec.protocolVersion = r.choice("protocol", as: MQTTProtocolVersion.self) ?? (format == .alink || format == .onenet ? .v311 : spec.protocolVersion)
            if format == .alink {
                spec.productKey = alinkName(r, "product_key")
                spec.deviceName = alinkName(r, "device_name")
                spec.deviceSecretFile = r.string("device_secret_file", required: true)
                for key in ["username", "password_file", "token_file", "client_id"] where r.has(key) {
                    r.report(key, "does not apply to format alink: the login is signed from product_key, device_name and device_secret_file")
                }
            } else if format == .iotda {
                parseIoTDA(r, into: &spec, devices: devices)
            } else if format == .onenet {
                parseOneNET(r, into: &spec)
            } else {
                if r.has("product_key") { r.report("product_key", "applies only to format alink, not \(format.rawValue)") }
                if r.has("device_name") { r.report("device_name", "applies only to formats alink and onenet, not \(format.rawValue)") }
                if r.has("device_secret_file") { r.report("device_secret_file", "applies only to formats alink, iotda and onenet, not \(format.rawValue)") }
            }
            if format != .onenet {
                for key in ["product_id", "token_method"] where r.has(key) { r.report(key, "applies only to format onenet, not \(format.rawValue)") }
            }
            if format != .iotda {
                for key in ["device_id", "service_id", "child_product_id", "child_ids"] where r.has(key) { r.report(key, "applies only to format iotda, not \(format.rawValue)") }
            }
            if format == .sparkplugB {
                spec.qos = r.integer("qos", range: 0...1) ?? 0
                spec.groupID = sparkplugID(r, "group_id", required: true)
                spec.edgeNodeID = sparkplugID(r, "edge_node_id")
                spec.primaryHostID = sparkplugID(r, "primary_host_id")
            } else {
                if let qos = r.integer("qos", range: 0...2), qos != 1 {
                    r.report("qos", "\(qos) is not supported: the journal forgets a batch only on the broker's PUBACK, so batches go at QoS 1")
                }
                for key in ["group_id", "edge_node_id", "primary_host_id"] where r.has(key) {
                    r.report(key, "applies only to format sparkplug-b, not \(format.rawValue)")
                }
            }
            if format == .vigil && r.has("commands") { r.report("commands", "format vigil brings no commands down; only thingsboard and sparkplug-b do") }
            spec.keepaliveSeconds = r.integer("keepalive_s", range: 5...3600) ?? spec.keepaliveSeconds
            spec.sessionExpirySeconds = r.integer("session_expiry_s", range: 0...4_294_967) ?? spec.sessionExpirySeconds
            spec.topicPrefix = r.string("topic_prefix") ?? spec.topicPrefix
            if spec.topicPrefix.contains(where: { "+#".contains($0) }) || spec.topicPrefix.hasSuffix("/") {
                r.report("topic_prefix", "\"\(spec.topicPrefix)\" must not contain + or # nor end with /")
            }
            spec.inflight = r.integer("inflight", range: 1...65_535) ?? spec.inflight
            spec.gzip = r.bool("gzip") ?? spec.gzip
            spec.batching = batching
            return parsed == nil ? .stdout : .mqtt(spec)
        case .hj212:
            return parseHJ212(r, url: url, batching: batching, devices: devices)
        }
    }

    private mutating func parseHJ212(_ r: ObjectReader, url: String, batching: UplinkBatching, devices: [DeviceSpec]) -> UplinkSpec {
        let endpoint = HJ212UplinkSpec.endpoint(url)
        if endpoint == nil { r.report("url", "\"\(redactedURL(url))\" must be tcp://HOST:PORT (the platform's HJ 212 port)") }
        // A field value must not contain the packet's separators.
        func field(_ key: String, required: Bool = false) -> String? {
            guard let value = r.string(key, required: required) else { return nil }
            if value.contains(where: { ";,=&\r\n".contains($0) }) { r.report(key, "\"\(value)\" must not contain ; , = & or a line break") }
            return value
        }
        let mn = field("mn", required: true)
        if let mn, mn.utf8.count > 24 { r.report("mn", "\"\(mn)\" is longer than HJ 212's 24 characters") }
        let st = r.integer("st", required: true, range: 10...99).map(String.init)
        let passwordFile = r.string("password_file", required: true)
        var deviceMN: [String: String] = [:]
        for member in r.freeObject("device_mn") ?? [] {
            let path = r.childPath("device_mn") + "." + member.key
            guard devices.contains(where: { $0.id == member.key }) else {
                diagnostics.report(path, at: member.keyLocation, "no device \"\(member.key)\" in devices[]")
                continue
            }
            guard case .string(let value) = member.value.value, !value.isEmpty, value.utf8.count <= 24,
                  !value.contains(where: { ";,=&\r\n".contains($0) }) else {
                diagnostics.report(path, at: member.value.location, "expected an MN: up to 24 characters, without ; , = &")
                continue
            }
            deviceMN[member.key] = value
        }
        var codes: [String: String] = [:]
        for member in r.freeObject("codes") ?? [] {
            let path = r.childPath("codes") + "." + member.key
            guard case .string(let code) = member.value.value, !code.isEmpty, code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                diagnostics.report(path, at: member.value.location, "expected a factor code of letters and digits, such as \"a21026\"")
                continue
            }
            let parts = member.key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let known: Bool = switch parts.count {
            case 1: devices.contains { $0.points.contains { $0.id == parts[0] } }
            // GPIO inputs are read after the uplink: their names are not checked here.
            case 2: parts[0] == GPIOSpec.device || devices.contains { $0.id == parts[0] && $0.points.contains { $0.id == parts[1] } }
            default: false
            }
            guard known else {
                diagnostics.report(path, at: member.keyLocation, "no point \"\(member.key)\": expected POINT or DEVICE/POINT of a configured device")
                continue
            }
            codes[member.key] = code
        }
        var offset = 480
        if let text = r.string("utc_offset") {
            if let minutes = Self.utcOffsetMinutes(text) { offset = minutes } else { r.report("utc_offset", "\"\(text)\" must be ±HH:MM, such as \"+08:00\"") }
        }
        var minuteData = r.integer("minute_data", range: 1...60)
        if let minutes = minuteData, 60 % minutes != 0 {
            r.report("minute_data", "\(minutes) must divide the hour: 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60")
            minuteData = nil
        }
        guard let endpoint, let mn, let st, let passwordFile else { return .stdout }
        var spec = HJ212UplinkSpec(url: url, host: endpoint.host, port: endpoint.port, systemCode: st, mn: mn, passwordFile: passwordFile)
        spec.deviceMN = deviceMN
        spec.codes = codes
        spec.utcOffsetMinutes = offset
        spec.alarmEvents = r.bool("alarm_events") ?? spec.alarmEvents
        spec.minuteDataMinutes = minuteData
        spec.hourData = r.bool("hour_data") ?? spec.hourData
        spec.batching = batching
        checkHJ212Codes(spec, devices: devices, r: r)
        return .hj212(spec)
    }

    /// Two points under one MN with one code would overwrite each other on the platform.
    private mutating func checkHJ212Codes(_ spec: HJ212UplinkSpec, devices: [DeviceSpec], r: ObjectReader) {
        var owner: [String: String] = [:] // "MN code" -> "device/point"
        for device in devices where device.enabled {
            let mn = spec.deviceMN[device.id] ?? spec.mn
            var unsent: [String] = []
            for point in device.points {
                guard let code = spec.code(device: device.id, point: point.id) else { unsent.append(point.id); continue }
                let key = "\(mn) \(code)"
                if let other = owner[key] {
                    r.report("codes", "\(other) and \(device.id)/\(point.id) both send \(code) under MN \(mn): give one device its own MN in device_mn, or each point its own code")
                } else {
                    owner[key] = "\(device.id)/\(point.id)"
                }
            }
            if !unsent.isEmpty {
                warnings.append("\(file): uplink.codes: device \(device.id): \(unsent.joined(separator: ", ")) \(unsent.count == 1 ? "has" : "have") no HJ 212 factor code and \(unsent.count == 1 ? "is" : "are") not sent upstream (alarms on \(unsent.count == 1 ? "it" : "them") still act locally)")
            }
        }
    }

    /// "+08:00" → 480.
    static func utcOffsetMinutes(_ text: String) -> Int? {
        guard text.count == 6, let sign = text.first, sign == "+" || sign == "-", Array(text)[3] == ":",
              let hours = Int(text.dropFirst().prefix(2)), let minutes = Int(text.suffix(2)), hours <= 14, minutes < 60 else { return nil }
        return (sign == "-" ? -1 : 1) * (hours * 60 + minutes)
    }

    private struct TLSFiles { var caFile, clientCert, clientKey: String? }

    /// format iotda: the gateway's device, its secret, and an IoTDA id for every device.
    private func parseIoTDA(_ r: ObjectReader, into spec: inout MQTTUplinkSpec, devices: [DeviceSpec]) {
        func iotdaID(_ value: String) -> Bool {
            !value.isEmpty && value.utf8.count <= 128 && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
        }
        let rule = "letters, digits, _ and -, at most 128"
        spec.deviceID = r.string("device_id", required: true)
        if let id = spec.deviceID, !iotdaID(id) { r.report("device_id", "\"\(id)\" must be an IoTDA device id: \(rule)") }
        spec.deviceSecretFile = r.string("device_secret_file", required: true)
        spec.serviceID = r.string("service_id") ?? spec.serviceID
        spec.childProductID = r.string("child_product_id")
        if let product = spec.childProductID, !iotdaID(product) { r.report("child_product_id", "\"\(product)\" must be an IoTDA product id: \(rule)") }
        for member in r.freeObject("child_ids") ?? [] {
            let path = r.childPath("child_ids") + "." + member.key
            guard member.key == GPIOSpec.device || devices.contains(where: { $0.id == member.key }) else {
                diagnostics.report(path, at: member.keyLocation, "no device \"\(member.key)\" in devices[]")
                continue
            }
            guard case .string(let id) = member.value.value, iotdaID(id) else {
                diagnostics.report(path, at: member.value.location, "expected an IoTDA device id: \(rule)")
                continue
            }
            spec.childIDs[member.key] = id
        }
        if spec.childProductID == nil {
            let missing = devices.filter { $0.enabled && spec.childIDs[$0.id] == nil }.map(\.id)
            if !missing.isEmpty {
                r.report("child_ids", "no IoTDA device id for \(missing.joined(separator: ", ")): give child_product_id (ids become <child_product_id>_<device>) or each in child_ids")
            }
        }
        for key in ["username", "password_file", "token_file", "client_id"] where r.has(key) {
            r.report(key, "does not apply to format iotda: the login is signed from device_id and device_secret_file")
        }
        if r.has("product_key") { r.report("product_key", "applies only to format alink, not iotda") }
        if r.has("device_name") { r.report("device_name", "applies only to formats alink and onenet, not iotda") }
    }

    /// A secret's file exists and is not readable by every user.
    private func checkSecretFile(_ r: ObjectReader, _ key: String, _ path: String) {
        guard let mode = loader.environment.fileMode(path) else { return r.report(key, "\(path) does not exist") }
        if mode & 0o004 != 0 {
            r.report(key, "\(path) is readable by every user (mode \(String(mode & 0o777, radix: 8))); "
                     + "let only root and the service read it: chgrp vigil \(path) && chmod 640 \(path)")
        }
    }

    /// format onenet: the gateway's device (product id, device name), its key's file and the token's HMAC.
    private func parseOneNET(_ r: ObjectReader, into spec: inout MQTTUplinkSpec) {
        for key in ["product_id", "device_name"] {
            guard let name = r.string(key, required: true) else { continue }
            // One topic level of `$sys/{pid}/{device-name}/…`, as the OneNET console allows names.
            if name.isEmpty || name.utf8.count > 64 || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.@".contains($0)) }) {
                r.report(key, "\"\(name)\" must be what the OneNET console shows: letters, digits and - _ . @")
            }
            if key == "product_id" { spec.productID = name } else { spec.deviceName = name }
        }
        spec.deviceSecretFile = r.string("device_secret_file", required: true)
        spec.tokenMethod = r.choice("token_method", as: OneNETTokenMethod.self) ?? spec.tokenMethod
        for key in ["username", "password_file", "token_file", "client_id"] where r.has(key) {
            r.report(key, "does not apply to format onenet: the login is the token signed from product_id, device_name and device_secret_file")
        }
        if r.has("product_key") { r.report("product_key", "applies only to format alink; OneNET's is product_id") }
    }

    /// Alibaba's ProductKey and DeviceName: letters, digits and `-_@.:`, as its console allows.
    private func alinkName(_ r: ObjectReader, _ key: String) -> String? {
        guard let name = r.string(key, required: true) else { return nil }
        if name.utf8.count > 64 || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_@.:".contains($0)) }) {
            r.report(key, "\"\(name)\" must be what the Alibaba Cloud IoT console shows: letters, digits and - _ @ . :")
        }
        return name
    }

    /// A Sparkplug id is one topic level: no '/', '+' or '#'.
    private func sparkplugID(_ r: ObjectReader, _ key: String, required: Bool = false) -> String? {
        guard let id = r.string(key, required: required) else { return nil }
        if id.isEmpty || id.contains(where: { "/+#".contains($0) }) {
            r.report(key, "\"\(id)\" must be one topic level: not empty, no '/', '+' or '#'")
        }
        return id
    }

    /// `commands: { allow_writes: ["gas-1/holding:40", "relay-2/*"] }`: each grant names a configured device.
    private func parseCommands(_ r: ObjectReader?, devices: [DeviceSpec]) -> RemoteCommandPolicy {
        var policy = RemoteCommandPolicy()
        for (node, path) in r?.array("allow_writes") ?? [] {
            guard case .string(let text) = node.value, let grant = RemoteCommandPolicy.WriteGrant(parsing: text) else {
                diagnostics.report(path, at: node.location, "expected \"DEVICE/holding:ADDRESS\", \"DEVICE/coil:ADDRESS\" or \"DEVICE/*\"")
                continue
            }
            guard devices.contains(where: { $0.id == grant.device }) else {
                let hint = closestMatch(to: grant.device, in: devices.map(\.id)).map { "; did you mean \"\($0)\"?" } ?? ""
                diagnostics.report(path, at: node.location, "no device \"\(grant.device)\" in devices[]\(hint)")
                continue
            }
            policy.allowWrites.append(grant)
        }
        return policy
    }

    /// The payload format, checked against what the transport can carry.
    private func parseFormat(_ r: ObjectReader, kind: UplinkKind) -> UplinkFormat {
        guard let format = r.choice("format", as: UplinkFormat.self) else { return .vigil }
        let carried = Self.formatsByKind[kind] ?? []
        if !carried.contains(format) {
            r.report("format", "\"\(format.rawValue)\" cannot be carried by a \(kind.rawValue) uplink; it carries: \(carried.map(\.rawValue).joined(separator: ", "))")
        }
        return format
    }

    private func parseBatching(_ r: ObjectReader) -> UplinkBatching {
        var b = UplinkBatching()
        b.batchMaxRecords = r.integer("batch_max_records", range: 1...100_000) ?? b.batchMaxRecords
        b.batchMaxBytes = r.integer("batch_max_bytes", range: 1024...64 * 1024 * 1024) ?? b.batchMaxBytes
        b.flushMs = r.integer("flush_ms", range: 10...3_600_000) ?? b.flushMs
        b.timeoutMs = r.integer("timeout_ms", range: 100...600_000) ?? b.timeoutMs
        b.heartbeatSeconds = r.integer("heartbeat_s", range: 1...86_400) ?? b.heartbeatSeconds
        return b
    }

    private func parseJournal(_ r: ObjectReader?) -> JournalOptions {
        var options = JournalOptions()
        guard let r else { return options }
        options.maxBytes = r.integer("max_bytes", range: 1024 * 1024...1 << 40) ?? options.maxBytes
        options.maxAgeSeconds = r.integer("max_age_s", range: 60...10 * 365 * 86_400)
        options.commitMs = r.integer("commit_ms", range: 1...10_000) ?? options.commitMs
        options.segmentBytes = r.integer("segment_bytes", range: 64 * 1024...256 * 1024 * 1024) ?? options.segmentBytes
        if options.segmentBytes * 4 > options.maxBytes {
            r.report("segment_bytes", "\(options.segmentBytes) leaves fewer than 4 segments in max_bytes \(options.maxBytes)")
        }
        return options
    }

    private func checkedID(_ r: ObjectReader) -> String? {
        guard let id = r.string("id", required: true) else { return nil }
        if !isValidID(id) {
            r.report("id", "\"\(id)\" may contain only letters, digits, '.', '_' and '-'")
            return nil
        }
        return id
    }

    private func pointID(_ node: JSONNode) -> String? {
        guard case .object(let members) = node.value, let m = members.first(where: { $0.key == "id" }),
              case .string(let id) = m.value.value else { return nil }
        return id
    }

    private func checkUnique(_ ids: [String], items: [(node: JSONNode, path: String)], what: String) {
        var seen = Set<String>()
        for (node, path) in items {
            guard let id = pointID(node) else { continue }
            if !seen.insert(id).inserted, ids.contains(id) {
                diagnostics.report("\(path).id", at: node.location, "duplicate \(what) id \"\(id)\"")
            }
        }
    }

    /// Rule 1 of the design: one serial line, one owner.
    private func checkSerialOwnership(_ buses: [BusSpec], items: [(node: JSONNode, path: String)]) {
        var owners: [String: String] = [:]
        for bus in buses {
            let line: String, key: String
            switch bus.transport {
            case .rtu(let serial): (line, key) = (serial.device, "device")
            // A device server in transparent mode is one serial line: two connections would interleave frames.
            case .rtuOverTCP(let host, let port, _): (line, key) = ("\(host):\(port)", "host")
            case .tcp: continue
            }
            if let owner = owners[line] {
                let item = items.first { pointID($0.node) == bus.id }
                diagnostics.report("\(item?.path ?? "buses").\(key)", at: item?.node.location,
                                   "\(line) is already the line of bus \"\(owner)\"; put both sets of devices on one bus")
            } else {
                owners[line] = bus.id
            }
        }
    }

    /// Alink and OneNET post `<device>_<point>` with `-` and `.` turned into `_`: two points
    /// that come out the same would be one property on the platform, each overwriting the other.
    private func checkThingModelIdentifiers(_ devices: [DeviceSpec], items: [(node: JSONNode, path: String)]) {
        for problem in AlinkThingModel.collisions(AlinkThingModel.gatewayEntries(devices)) {
            let item = items.first { pointID($0.node) == problem.device }
            diagnostics.report("\(item?.path ?? "devices").points", at: item?.node.location, problem.message)
        }
    }

    private func checkUnits(_ devices: [DeviceSpec], items: [(node: JSONNode, path: String)]) {
        var seen: [String: String] = [:]
        for device in devices where device.enabled {
            let key = "\(device.bus)/\(device.unit)"
            if let other = seen[key] {
                let item = items.first { pointID($0.node) == device.id }
                diagnostics.report("\(item?.path ?? "devices").unit", at: item?.node.location,
                                   "unit \(device.unit) on bus \"\(device.bus)\" is already device \"\(other)\"")
            } else {
                seen[key] = device.id
            }
        }
    }
}

func isValidID(_ id: String) -> Bool {
    !id.isEmpty && id.utf8.allSatisfy { c in
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
    }
}

/// The validated configuration: everything the agent needs, with defaults applied.

public enum RegisterTable: String, Sendable, CaseIterable, Codable {
    case coil, discrete, holding, input
    /// Coils and discrete inputs are single bits; the others are 16-bit registers.
    public var isBitTable: Bool { self == .coil || self == .discrete }
}

public enum ValueType: String, Sendable, CaseIterable {
    case bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, string

    /// Registers a value of this type occupies, or nil for strings (their `length`).
    public var fixedRegisterCount: Int? {
        switch self {
        case .bool, .int16, .uint16: return 1
        case .int32, .uint32, .float32: return 2
        case .int64, .uint64, .float64: return 4
        case .string: return nil
        }
    }
}

/// Byte order of a multi-register value, named by the bytes of a 32-bit value
/// A B C D (A most significant) as they arrive on the wire.
/// - abcd: big-endian, high word first (the Modbus convention).
/// - cdab: words swapped (low word first), bytes within a word big-endian.
/// - badc: bytes swapped within each word, words in order.
/// - dcba: fully little-endian.
/// For 64-bit values the same rule holds per word: cdab reverses the four words.
public enum WordOrder: String, Sendable, CaseIterable {
    case abcd, cdab, badc, dcba
    public var reversesWords: Bool { self == .cdab || self == .dcba }
    public var swapsBytes: Bool { self == .badc || self == .dcba }
}

public enum Parity: String, Sendable, CaseIterable {
    case none, even, odd
}

public struct AlarmSetpoints: Sendable, Equatable {
    public var high: Double?
    public var highHigh: Double?
    public var low: Double?
    public var lowLow: Double?
    public var deadband: Double?
    public var onDelayMs: Int?
    public var offDelayMs: Int?
    public var latch: Bool?
    public var severity: String?
    public var risePerMinute: Double?
    public var allowAboveStandard: Bool?
    public init() {}
}

/// What a point tells about the detector itself, rather than a measurement.
public enum PointRole: String, Sendable, CaseIterable {
    /// The detector's own first / second alarm bit (AL1, AL2): raises like a setpoint would.
    case alarm1, alarm2
    /// The detector reports a fault or a warning (a bit, or a non-zero code).
    case fault, warning
    /// A counter the detector advances: when it stops, the device's readings are `stale`.
    case heartbeat
    /// The detector's state; while its label is warm-up, inhibit or calibration,
    /// readings are flagged with it and raise no alarm.
    case mode
}

public struct PointSpec: Sendable, Equatable {
    public var id: String
    public var table: RegisterTable
    public var address: Int
    public var type: ValueType
    public var order: WordOrder
    /// For `bool` points in a register table: the bit (0 = least significant).
    public var bit: Int?
    /// For strings: the number of registers (two characters each).
    public var length: Int?
    public var scale: Double
    public var offset: Double
    /// The id of a point whose value is the number of decimals: value × 10^-decimals.
    public var decimalsFrom: String?
    public var unit: String?
    public var labels: [Int64: String]
    public var alarms: AlarmSetpoints?
    public var role: PointRole?
    /// Report by exception for this point (else the device's, else the uplink's).
    public var report: ReportPolicy?

    public init(id: String, table: RegisterTable, address: Int, type: ValueType, order: WordOrder = .abcd,
                bit: Int? = nil, length: Int? = nil, scale: Double = 1, offset: Double = 0,
                decimalsFrom: String? = nil, unit: String? = nil, labels: [Int64: String] = [:], alarms: AlarmSetpoints? = nil) {
        self.id = id; self.table = table; self.address = address; self.type = type; self.order = order
        self.bit = bit; self.length = length; self.scale = scale; self.offset = offset
        self.decimalsFrom = decimalsFrom; self.unit = unit; self.labels = labels; self.alarms = alarms
    }

    /// How many registers (or bits, in a bit table) the point reads.
    public var width: Int {
        if table.isBitTable { return 1 }
        return type.fixedRegisterCount ?? length ?? 1
    }
}

public struct SerialSettings: Sendable, Equatable {
    public var device: String
    public var baud: Int
    public var parity: Parity
    public var dataBits: Int
    public var stopBits: Int
    public var rs485: Bool
    /// Silence enforced between frames on this line.
    public var gapMs: Double

    // The config's defaults (ConfigLoader reads these too): 9600 8N1, the Modbus RTU convention.
    public static let defaultBaud = 9600
    public static let defaultDataBits = 8
    public static let defaultStopBits = 1

    public init(device: String, baud: Int, parity: Parity = .none, dataBits: Int = defaultDataBits, stopBits: Int = defaultStopBits,
                rs485: Bool = false, gapMs: Double? = nil) {
        self.device = device; self.baud = baud; self.parity = parity; self.dataBits = dataBits; self.stopBits = stopBits
        self.rs485 = rs485
        self.gapMs = gapMs ?? Self.defaultGapMs(baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits)
    }

    /// The termios rates libmodbus sets on Linux; any other falls back to 9600 without a word.
    public static let baudRates = [110, 300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800,
                                   500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000]

    /// Modbus RTU's 3.5 character times, with the fixed 1.75 ms the spec gives above 19200 baud.
    public static func defaultGapMs(baud: Int, parity: Parity, dataBits: Int, stopBits: Int) -> Double {
        if baud > 19200 { return 1.75 }
        let bitsPerCharacter = 1 + dataBits + (parity == .none ? 0 : 1) + stopBits
        return 3.5 * Double(bitsPerCharacter) * 1000 / Double(baud)
    }
}

public enum BusTransport: Sendable, Equatable {
    case rtu(SerialSettings)
    case tcp(host: String, port: Int)
    /// Modbus RTU frames, CRC and all, in a TCP stream: a serial device server
    /// (Moxa NPort, USR-TCP232, a 4G DTU) in transparent mode. The RS-485 line is
    /// behind it, so one owner and the inter-frame gap still hold.
    case rtuOverTCP(host: String, port: Int, gapMs: Double)

    /// The line behind a device server is usually 9600 8N1: its 3.5 character times.
    public static let deviceServerDefaultGapMs = SerialSettings.defaultGapMs(baud: 9600, parity: .none, dataBits: 8, stopBits: 1)

    /// "host:port" or the serial device, for messages.
    public var endpointName: String {
        switch self {
        case .tcp(let host, let port): return "\(host):\(port)"
        case .rtu(let serial): return serial.device
        case .rtuOverTCP(let host, let port, _): return "rtu-over-tcp://\(host):\(port)"
        }
    }

    /// RTU framing (CRC, unit ids 1–247, one request at a time on one line).
    public var isRTUFramed: Bool {
        switch self {
        case .tcp: false
        case .rtu, .rtuOverTCP: true
        }
    }
}

public struct BusSpec: Sendable, Equatable {
    public var id: String
    public var transport: BusTransport
    public var timeoutMs: Int
    public var retries: Int
    public var maxRegisters: Int

    // The config's defaults (ConfigLoader reads these too).
    public static let defaultTimeoutMs = 1000
    public static let defaultRetries = 1
    /// The most one Modbus read returns.
    public static let defaultMaxRegisters = 125

    public init(id: String, transport: BusTransport, timeoutMs: Int = defaultTimeoutMs, retries: Int = defaultRetries,
                maxRegisters: Int = defaultMaxRegisters) {
        self.id = id; self.transport = transport; self.timeoutMs = timeoutMs; self.retries = retries; self.maxRegisters = maxRegisters
    }

    /// Silence between frames: the serial gap (also behind a device server), none on TCP.
    public var gapMs: Double {
        switch transport {
        case .rtu(let serial): serial.gapMs
        case .rtuOverTCP(_, _, let gapMs): gapMs
        case .tcp: 0
        }
    }
}

public struct DeviceSpec: Sendable, Equatable {
    public var id: String
    public var bus: String
    public var unit: Int
    public var profile: String?
    /// "Honeywell Analytics XNX Universal Transmitter", from the profile: a static fact for platforms.
    public var model: String?
    public var points: [PointSpec]
    public var intervalMs: Int
    public var enabled: Bool
    public var maxGap: Int
    /// Consecutive failed polls before the device is reported offline.
    public var offlineAfter: Int
    /// Report by exception for this device's points (else the uplink's).
    public var report: ReportPolicy?
    /// Its own identity on Alibaba Cloud IoT (format alink): a sub-device of the gateway.
    public var cloud: CloudIdentity?

    // The config's defaults (ConfigLoader reads these too).
    public static let defaultIntervalMs = 1000
    public static let defaultMaxGap = 8
    public static let defaultOfflineAfter = 3

    public init(id: String, bus: String, unit: Int, profile: String? = nil, points: [PointSpec], intervalMs: Int = defaultIntervalMs,
                enabled: Bool = true, maxGap: Int = defaultMaxGap, offlineAfter: Int = defaultOfflineAfter) {
        self.id = id; self.bus = bus; self.unit = unit; self.profile = profile; self.points = points
        self.intervalMs = intervalMs; self.enabled = enabled; self.maxGap = maxGap; self.offlineAfter = offlineAfter
    }
}

/// `devices[].cloud: { product_key, device_name, device_secret_file }`.
public struct CloudIdentity: Sendable, Equatable {
    public var productKey: String
    public var deviceName: String
    public var deviceSecretFile: String
    public init(productKey: String, deviceName: String, deviceSecretFile: String) {
        self.productKey = productKey; self.deviceName = deviceName; self.deviceSecretFile = deviceSecretFile
    }
}

public struct GatewaySpec: Sendable, Equatable {
    public var id: String
    public var stateDir: String
    /// The board file the config's labels refer to.
    public var board: Board?
    public init(id: String, stateDir: String, board: Board? = nil) { self.id = id; self.stateDir = stateDir; self.board = board }
}

public enum UplinkSpec: Sendable, Equatable {
    /// JSON Lines on standard output.
    case stdout
    /// JSON batches POSTed to an upstream (docs/uplink-protocol.md).
    case http(HTTPUplinkSpec)
    /// Messages published to an MQTT broker, acknowledged by its PUBACK.
    case mqtt(MQTTUplinkSpec)
    /// HJ 212-2017 packets over TCP, acknowledged by the platform's data answer (docs/hj212.md).
    case hj212(HJ212UplinkSpec)

    /// How the forwarder forms and paces batches for this uplink.
    public var batching: UplinkBatching {
        switch self {
        case .stdout: UplinkBatching(heartbeatSeconds: nil)
        case .http(let spec): spec.batching
        case .mqtt(let spec): spec.batching
        case .hj212(let spec): spec.batching
        }
    }
}

/// What a batch carries on the wire: a format turns a batch into what a
/// transport carries. Each transport names the formats it can carry.
public enum UplinkFormat: String, Sendable, CaseIterable {
    /// Vigil's own batch JSON (docs/uplink-protocol.md).
    case vigil
    /// ThingsBoard's gateway MQTT API (docs/thingsboard.md).
    case thingsboard
    /// Sparkplug B 3.0 for SCADA hosts (docs/sparkplug.md).
    case sparkplugB = "sparkplug-b"
    /// InfluxDB line protocol, for InfluxDB, VictoriaMetrics, TDengine (docs/influx.md).
    case influx
    /// Alibaba Cloud IoT Platform's Alink (docs/alink.md).
    case alink
    /// Huawei Cloud IoTDA (docs/iotda.md).
    case iotda
    /// China Mobile OneNET's thing model, OneJSON (docs/onenet.md).
    case onenet
}

/// The HMAC a OneNET token is signed with (its `method`).
public enum OneNETTokenMethod: String, Sendable, CaseIterable { case md5, sha1, sha256 }

/// Batch size and pacing, the same keys for every transport.
public struct UplinkBatching: Sendable, Equatable {
    public var batchMaxRecords = 500
    public var batchMaxBytes = 256 * 1024
    public var flushMs = 1000
    /// Presence when nothing else is sent; nil: none (stdout).
    public var heartbeatSeconds: Int? = 60
    /// One exchange with the upstream, acknowledgement included.
    public var timeoutMs = 10_000
    public init() {}
    public init(heartbeatSeconds: Int?) { self.heartbeatSeconds = heartbeatSeconds }
    public init(flushMs: Int, heartbeatSeconds: Int? = nil) {
        self.flushMs = flushMs
        self.heartbeatSeconds = heartbeatSeconds
    }
}

/// MQTT protocol versions the MQTT transport speaks.
public enum MQTTProtocolVersion: String, Sendable, CaseIterable {
    case v5 = "5"
    case v311 = "3.1.1"
}

/// `uplink: { kind: "mqtt", … }`: a broker, its credentials and the topics.
public struct MQTTUplinkSpec: Sendable, Equatable {
    public var url: String
    public var host: String
    public var port: Int
    /// mqtts://: TLS, verified unless `insecure`.
    public var tls: Bool
    public var format = UplinkFormat.vigil
    /// format vigil: readings carry `raw` (false: left out, to save upstream bytes).
    public var sendRaw = true
    /// Default: the gateway id.
    public var clientID: String?
    public var username: String?
    public var passwordFile: String?
    public var caFile: String?
    public var clientCert: String?
    public var clientKey: String?
    public var insecure = false
    public var protocolVersion = MQTTProtocolVersion.v5
    public var keepaliveSeconds = 30
    /// A persistent session (MQTT 5 session expiry; clean_session false on 3.1.1).
    public var sessionExpirySeconds = 86_400
    public var topicPrefix = "vigil"
    /// Messages published and not yet acknowledged, at most (the broker's receive maximum caps it).
    public var inflight = 20
    public var gzip = false
    public var batching = UplinkBatching()
    /// format thingsboard: the device access token, sent as the MQTT user name.
    public var tokenFile: String?
    /// What the platform may ask of the gateway (RPC, DCMD).
    public var commands = RemoteCommandPolicy()
    /// QoS of data messages: 1; Sparkplug's default is 0, as its spec says.
    public var qos = 1
    /// format sparkplug-b: the Sparkplug group, the edge node (default: the gateway id) and the primary host, if any.
    public var groupID: String?
    public var edgeNodeID: String?
    public var primaryHostID: String?
    /// format alink: the gateway's device on Alibaba Cloud IoT, and the file with its DeviceSecret
    /// (format onenet: its device name, and the file with its device key).
    public var productKey: String?
    public var deviceName: String?
    public var deviceSecretFile: String?
    /// format onenet: the product the gateway's device belongs to, and the HMAC its token is signed with.
    public var productID: String?
    public var tokenMethod = OneNETTokenMethod.sha256
    /// format iotda: the gateway's device id, the service its children's points belong to, and
    /// each child's device id (`child_ids`, else `<child_product_id>_<device>`, IoTDA's own rule).
    public var deviceID: String?
    public var serviceID = "vigil"
    public var childProductID: String?
    public var childIDs: [String: String] = [:]

    public init(url: String, host: String, port: Int, tls: Bool) {
        self.url = url; self.host = host; self.port = port; self.tls = tls
    }

    /// `mqtt://host[:1883]` or `mqtts://host[:8883]`; nil for anything else.
    public static func endpoint(_ url: String) -> (host: String, port: Int, tls: Bool)? {
        let tls: Bool
        let rest: Substring
        if url.hasPrefix("mqtts://") { tls = true; rest = url.dropFirst(8) } else if url.hasPrefix("mqtt://") { tls = false; rest = url.dropFirst(7) } else { return nil }
        let authority = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        if authority.contains("@") { return nil } // credentials belong in username / password_file
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        guard let host = parts.first, !host.isEmpty, parts.count <= 2 else { return nil }
        guard parts.count == 2 else { return (String(host), tls ? 8883 : 1883, tls) }
        guard let port = Int(parts[1]), (1...65_535).contains(port) else { return nil }
        return (String(host), port, tls)
    }
}

/// Supervision: how long a stuck part may stay stuck before the watchdogs
/// are no longer fed, and the optional hardware watchdog.
public struct WatchdogSpec: Sendable, Equatable {
    public var graceSeconds = 30
    /// `/dev/watchdog` or another watchdog device; nil: systemd's watchdog only.
    public var device: String?
    public var timeoutSeconds = 60
    public init() {}
}

/// The control socket technicians' commands talk to.
public struct ControlSpec: Sendable, Equatable {
    public static let defaultSocket = "/run/vigil/control.sock"
    public var socket = ControlSpec.defaultSocket
    /// The socket's group (mode 0660): members may run diagnostics.
    public var group = "vigil"
    public init() {}
}

/// `uplink: { kind: "hj212", … }`: a platform of Chinese environmental and
/// chemical-park monitoring, its monitoring points (MN) and factor codes.
public struct HJ212UplinkSpec: Sendable, Equatable {
    public var url: String
    public var host: String
    public var port: Int
    /// ST, the system code (22 air quality, 31 air pollution source, 32 water pollution source, …).
    public var systemCode: String
    /// The MN every device reports under, unless `device_mn` names its own.
    public var mn: String
    public var deviceMN: [String: String] = [:]
    /// The access password (PW), kept out of the config like every secret.
    public var passwordFile: String
    /// Factor codes by "device/point" or by "point"; points without one are not sent.
    public var codes: [String: String] = [:]
    /// The platform's time zone, in minutes east of UTC: Beijing time by default.
    public var utcOffsetMinutes = 480
    /// Alarms raised and cleared as CN=2072 packets.
    public var alarmEvents = true
    /// Minute data (CN=2051) every this many minutes (a divisor of 60); nil sends none.
    public var minuteDataMinutes: Int?
    /// Hour data (CN=2061).
    public var hourData = false

    /// The minute and hour data asked for.
    public var intervals: [HJ212Statistics.Interval] {
        (minuteDataMinutes.map { [.minutes($0)] } ?? []) + (hourData ? [.hour] : [])
    }
    public var batching = UplinkBatching()

    public init(url: String, host: String, port: Int, systemCode: String, mn: String, passwordFile: String) {
        self.url = url; self.host = host; self.port = port; self.systemCode = systemCode; self.mn = mn; self.passwordFile = passwordFile
    }

    /// `tcp://host:port`; nil for anything else.
    public static func endpoint(_ url: String) -> (host: String, port: Int)? {
        guard url.hasPrefix("tcp://") else { return nil }
        let parts = url.dropFirst(6).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65_535).contains(port) else { return nil }
        return (String(parts[0]), port)
    }

    /// The factor code a device's point is sent under, if any.
    public func code(device: String, point: String) -> String? {
        codes["\(device)/\(point)"] ?? codes[point]
    }
}

public struct HTTPUplinkSpec: Sendable, Equatable {
    public var url: String
    public var tokenFile: String?
    public var caFile: String?
    public var clientCert: String?
    public var clientKey: String?
    /// TLS verification off: for a lab only, warned about at every start.
    public var insecure = false
    public var gzip = true
    public var batching = UplinkBatching()
    public var format = UplinkFormat.vigil
    /// format vigil: readings carry `raw` (false: left out, to save upstream bytes).
    public var sendRaw = true
    /// format influx: the readings' measurement (events go to `<measurement>_events`).
    public var measurement = "vigil"

    public init(url: String) { self.url = url }
}

public struct VigilConfig: Sendable, Equatable {
    public var file: String
    public var gateway: GatewaySpec
    public var buses: [BusSpec]
    public var devices: [DeviceSpec]
    public var uplink: UplinkSpec
    public var journal: JournalOptions
    public var watchdog = WatchdogSpec()
    public var gpio = GPIOSpec()
    public var control = ControlSpec()
    /// `uplink.report`: report by exception for every point without its own; nil: every poll.
    public var report: ReportPolicy?
    /// Valid but worth saying at every start (setpoints above the standard, allowed on purpose).
    public var warnings: [String] = []

    public init(file: String, gateway: GatewaySpec, buses: [BusSpec], devices: [DeviceSpec], uplink: UplinkSpec = .stdout,
                journal: JournalOptions = JournalOptions()) {
        self.file = file; self.gateway = gateway; self.buses = buses; self.devices = devices; self.uplink = uplink
        self.journal = journal
    }

    /// Where the journal lives: `state_dir/journal`.
    public var journalDirectory: String { "\(gateway.stateDir)/journal" }

    public func devices(on bus: String) -> [DeviceSpec] { devices.filter { $0.bus == bus && $0.enabled } }
}

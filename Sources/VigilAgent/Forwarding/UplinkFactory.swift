import VigilCore
import VigilUplink

/// The uplink the config names.
public func makeUplink(_ config: VigilConfig, log: Logger) throws -> any Uplink {
    switch config.uplink {
    case .stdout:
        return StdoutUplink()
    case .http(let spec):
        if spec.tokenFile != nil, spec.url.lowercased().hasPrefix("http://"), !isLoopback(spec.url) {
            log.warning("uplink \(redactedURL(spec.url)): the token is sent over plain http: anyone on the path can read it; use https")
        }
        if spec.insecure { log.warning("uplink \(redactedURL(spec.url)): TLS verification is OFF (insecure: true); anyone on the path can read and forge this gateway's data") }
        return try httpUplink(spec, config: config)
    case .mqtt(let spec):
        if spec.passwordFile != nil, !spec.tls, !isLoopback(spec.url) {
            log.warning("uplink \(redactedURL(spec.url)): the password is sent over plain mqtt: anyone on the path can read it; use mqtts")
        }
        if spec.insecure { log.warning("uplink \(redactedURL(spec.url)): TLS verification is OFF (insecure: true); anyone on the path can read and forge this gateway's data") }
        let format = spec.format == .alink ? try alinkFormat(spec, config: config) : messageFormat(spec, config: config, log: log)
        return try MQTTUplink(spec: spec, gateway: config.gateway.id, format: format, login: mqttLogin(spec))
    case .hj212(let spec):
        return try HJ212Uplink(spec: spec, format: hj212Format(spec, config: config))
    }
}

/// Each device (and the GPIO inputs) as the monitoring point its MN names, with the factor codes of its points.
func hj212Format(_ spec: HJ212UplinkSpec, config: VigilConfig) -> HJ212Format {
    var points = config.devices.filter(\.enabled).map { ($0.id, $0.points.map(\.id)) }
    if !config.gpio.inputs.isEmpty { points.append((GPIOSpec.device, config.gpio.inputs.map(\.id))) }
    var stations: [String: HJ212Format.Station] = [:]
    for (device, ids) in points {
        let codes = Dictionary(ids.compactMap { id in spec.code(device: device, point: id).map { (id, $0) } }, uniquingKeysWith: { a, _ in a })
        stations[device] = HJ212Format.Station(mn: spec.deviceMN[device] ?? spec.mn, codes: codes)
    }
    return HJ212Format(systemCode: spec.systemCode, stations: stations, utcOffsetMinutes: spec.utcOffsetMinutes, alarmEvents: spec.alarmEvents,
                       intervals: spec.intervals)
}

/// An HTTP uplink in the spec's format (the forwarder's, and `vigil uplink test`'s own).
func httpUplink(_ spec: HTTPUplinkSpec, config: VigilConfig) throws(HTTPUplink.SetupError) -> HTTPUplink {
    switch spec.format {
    case .influx:
        let profiles = Dictionary(config.devices.compactMap { d in d.profile.map { (d.id, $0) } }, uniquingKeysWith: { a, _ in a })
        return try HTTPUplink(spec: spec, gateway: config.gateway.id,
                              format: InfluxLineFormat(gateway: config.gateway.id, measurement: spec.measurement, profiles: profiles),
                              url: InfluxLineFormat.writeURL(spec.url))
    default:
        return try HTTPUplink(spec: spec, gateway: config.gateway.id, format: VigilBodyFormat(sendRaw: spec.sendRaw))
    }
}

/// `http://127.0.0.1…`, `http://localhost…`, `http://[::1]…`: a token to a local relay never crosses a wire.
func isLoopback(_ url: String) -> Bool {
    let afterScheme = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? ""
    let host = afterScheme.split(separator: "@").last.map(String.init) ?? afterScheme
    return host.hasPrefix("127.") || host.hasPrefix("localhost") || host.hasPrefix("[::1]")
}

/// The format an MQTT uplink's spec names.
func messageFormat(_ spec: MQTTUplinkSpec, config: VigilConfig, log: Logger) -> any MessageFormat {
    switch spec.format {
    // influx is not carried by MQTT: the config loader refuses it (formatsByKind).
    case .vigil, .influx: VigilMessageFormat(gateway: config.gateway.id, prefix: spec.topicPrefix, sendRaw: spec.sendRaw)
    case .thingsboard: ThingsBoardFormat(devices: thingsBoardDevices(config))
    case .sparkplugB: sparkplugFormat(spec, config: config, log: log)
    // Never used: makeUplink builds alink with its sub-devices' secrets (alinkFormat), and `vigil uplink test` does not connect for it.
    case .alink: AlinkFormat(productKey: spec.productKey ?? "", deviceName: spec.deviceName ?? "")
    case .iotda: IoTDAFormat(gatewayID: spec.deviceID ?? "", serviceID: spec.serviceID, childIDs: iotdaChildIDs(spec, config: config))
    case .onenet: OneNETFormat(productID: spec.productID ?? "", deviceName: spec.deviceName ?? "")
    }
}

/// formats alink, iotda and onenet: the login signed from the device secret. Alink's is made
/// once (its timestamp is the start's); IoTDA's before every connection, as the platform checks
/// its hour; OneNET's too, its token valid for a day from the connection.
func mqttLogin(_ spec: MQTTUplinkSpec) throws -> (@Sendable () throws(MQTTLogin.Failure) -> MQTTLogin)? {
    guard [.alink, .iotda, .onenet].contains(spec.format), let file = spec.deviceSecretFile else { return nil }
    let secret = trimmed(try readTextFile(file))
    guard !secret.isEmpty else { throw MQTTLogin.Failure(description: "uplink.device_secret_file: \(file) is empty") }
    if spec.format == .iotda {
        let deviceID = spec.deviceID ?? ""
        return { () throws(MQTTLogin.Failure) in try MQTTLogin.iotda(deviceID: deviceID, secret: secret, atMs: WallTime.now(kernelSynchronised: true).milliseconds) }
    }
    if spec.format == .onenet {
        let (productID, deviceName, method) = (spec.productID ?? "", spec.deviceName ?? "", spec.tokenMethod.rawValue)
        // A bad key is named at start, not at the first connection.
        do { _ = try MQTTLogin.onenet(productID: productID, deviceName: deviceName, key: secret, method: method, expiresAtSeconds: 0) } catch {
            throw MQTTLogin.Failure(description: "uplink.device_secret_file: \(file): \(error)")
        }
        return { () throws(MQTTLogin.Failure) in
            try MQTTLogin.onenet(productID: productID, deviceName: deviceName, key: secret, method: method,
                                 expiresAtSeconds: WallTime.now(kernelSynchronised: true).milliseconds / 1000 + 86_400)
        }
    }
    let login = try MQTTLogin.alink(productKey: spec.productKey ?? "", deviceName: spec.deviceName ?? "", deviceSecret: secret,
                                    timestampMs: WallTime.now(kernelSynchronised: true).milliseconds, tls: spec.tls)
    return { login }
}

/// format alink: the gateway's thing, and each device with its own cloud identity as a
/// sub-device, its login signed with its DeviceSecret (read at start).
func alinkFormat(_ spec: MQTTUplinkSpec, config: VigilConfig) throws -> AlinkFormat {
    var subDevices: [String: AlinkFormat.SubDevice] = [:]
    var secrets: [String: String] = [:]
    for device in config.devices where device.enabled {
        guard let cloud = device.cloud else { continue }
        let secret = trimmed(try readTextFile(cloud.deviceSecretFile))
        guard !secret.isEmpty else { throw MQTTLogin.Failure(description: "devices \(device.id): cloud.device_secret_file \(cloud.deviceSecretFile) is empty") }
        subDevices[device.id] = AlinkFormat.SubDevice(productKey: cloud.productKey, deviceName: cloud.deviceName)
        secrets[device.id] = secret
    }
    let signingKeys = secrets
    return AlinkFormat(productKey: spec.productKey ?? "", deviceName: spec.deviceName ?? "", subDevices: subDevices,
                       sign: { device, content in signingKeys[device].flatMap { try? MQTTLogin.hmacSHA256Hex(key: $0, message: content) } })
}

/// Each enabled device's IoTDA child id (the loader made sure every one has one).
func iotdaChildIDs(_ spec: MQTTUplinkSpec, config: VigilConfig) -> [String: String] {
    var ids: [String: String] = [:]
    for device in config.devices.filter(\.enabled).map(\.id) + (config.gpio.inputs.isEmpty ? [] : [GPIOSpec.device]) {
        if let id = spec.childIDs[device] ?? spec.childProductID.map({ "\($0)_\(device)" }) { ids[device] = id }
    }
    return ids
}

/// Sparkplug's bdSeq survives restarts in `state_dir/sparkplug-bdseq`, so a host never pairs a new NBIRTH with an old NDEATH.
func sparkplugFormat(_ spec: MQTTUplinkSpec, config: VigilConfig, log: Logger) -> SparkplugFormat {
    var devices = config.devices.filter(\.enabled).map { SparkplugFormat.Device(id: $0.id, points: $0.points) }
    if !config.gpio.inputs.isEmpty {
        devices.append(SparkplugFormat.Device(id: GPIOSpec.device, points: config.gpio.inputs.map { PointSpec(id: $0.id, table: .discrete, address: 0, type: .bool) }))
    }
    let file = "\(config.gateway.stateDir)/sparkplug-bdseq"
    let last = (try? readTextFile(file)).flatMap { UInt64(trimmed($0)) }
    return SparkplugFormat(group: spec.groupID ?? config.gateway.id, edgeNode: spec.edgeNodeID ?? config.gateway.id, primaryHost: spec.primaryHostID,
                           devices: devices, dataQoS: Int32(spec.qos), lastBdSeq: last,
                           saveBdSeq: { bdSeq in
                               // The uplink connects before the journal has made the state directory on a first start.
                               do {
                                   try FileSystem.makeDirectory(config.gateway.stateDir)
                                   try FileSystem.replaceAtomically(file, with: Array("\(bdSeq)\n".utf8))
                               } catch {
                                   log.warning("uplink: cannot store Sparkplug bdSeq \(bdSeq): \(error); after a restart a host may pair a new NBIRTH with an old NDEATH")
                               }
                           })
}

/// Each polled device (and the GPIO inputs) as a ThingsBoard device, with its static facts as attributes.
func thingsBoardDevices(_ config: VigilConfig) -> [ThingsBoardFormat.Device] {
    var devices = config.devices.filter(\.enabled).map { d in
        var attributes: [(key: String, value: String)] = [("bus", d.bus), ("modbus_unit", String(d.unit))]
        if let model = d.model { attributes.insert(("model", model), at: 0) }
        if let profile = d.profile { attributes.insert(("profile", profile), at: 0) }
        attributes += d.points.compactMap { p in p.unit.map { ("\(p.id)_unit", $0) } }
        return ThingsBoardFormat.Device(id: d.id, type: d.profile ?? "default", attributes: attributes)
    }
    if !config.gpio.inputs.isEmpty {
        devices.append(ThingsBoardFormat.Device(id: GPIOSpec.device, type: "gpio", attributes: [("inputs", config.gpio.inputs.map(\.id).joined(separator: ","))]))
    }
    return devices
}

import Foundation
import XCTest
@testable import VigilCore
import VigilTestSupport

/// The thing model `vigil config tsl` / `vigil profile tsl` print must take what
/// AlinkFormat really posts: every property identifier defined, every value of the
/// declared type and range, every event field an output parameter.
final class AlinkThingModelTests: XCTestCase {
    let profiles = ProfileLibrary(directories: [Repo.path("Profiles")])
    let t0 = fixtureEpochMs

    func shippedProfiles() throws -> [Profile] {
        try profiles.names().map { name in
            let file = try XCTUnwrap(profiles.resolve(name, relativeTo: "."))
            guard case .success(let p) = profiles.load(file: file) else { throw XCTSkip("profile \(name) does not load") }
            return p
        }
    }

    /// The config a site would have: one device per shipped profile, one of them a sub-device.
    func siteConfig() throws -> VigilConfig {
        let secret = temporaryDirectory() + "/secret"
        try "s3cr3t".write(toFile: secret, atomically: true, encoding: .utf8)
        chmod(secret, 0o600)
        let devices = try shippedProfiles().enumerated().map { i, p in
            "{ id: 'dev-\(i).\(p.kind.rawValue)', bus: 'b', unit: \(i + 1), profile: '\(p.name)' }"
        } + ["{ id: 'pump-gas', bus: 'b', unit: 99, profile: 'honeywell-xnx', cloud: { product_key: 'k9xYz', device_name: 'pump', device_secret_file: '\(secret)' } }"]
        let loader = ConfigLoader(profiles: profiles, environment: .system(machineIDFile: "/nonexistent"))
        switch loader.parse("""
            { gateway: { id: 'g' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }], devices: [\(devices.joined(separator: ","))],
              uplink: { kind: 'mqtt', format: 'alink', url: 'mqtts://x', product_key: 'a1B2c3', device_name: 'gw-07', device_secret_file: '\(secret)' } }
            """, file: "vigil.json5") {
        case .success(let c): return c
        case .failure(let e): XCTFail(e.description); throw e
        }
    }

    /// Every reading a device can make from a few register patterns, through the real decoder.
    func readings(of device: DeviceSpec) -> [Record] {
        let decoder = PointDecoder(points: device.points, blocks: ReadPlanner.plan(device.points, maxRegisters: 125, maxGap: device.maxGap))
        var out: [Record] = []
        for (k, word) in [UInt16(0), 1, 0x4120, 0x7FFF, 0x8000, 0xFFFF].enumerated() {
            let results: [BlockResult] = decoder.blocks.map {
                $0.table.isBitTable ? .bits(Array(repeating: word & 1 == 1, count: $0.count)) : .registers(Array(repeating: word, count: $0.count))
            }
            for (point, decoded) in zip(device.points, decoder.decode(results)) {
                out.append(.reading(Reading(timestamp: WallTime(milliseconds: t0 + Int64(k) * 1000, clockSynced: true), device: device.id,
                                            point: point.id, value: decoded.value, raw: .none, unit: point.unit, label: decoded.label,
                                            quality: decoded.isGood ? .good : .bad, error: decoded.error)))
            }
        }
        return out
    }

    func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    /// The model as the installer imports it: the JSON `vigil … tsl` prints, read back.
    func imported(_ model: AlinkThingModel) throws -> [String: Any] {
        let encoder = JSONEncoder()
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: encoder.encode(model)) as? [String: Any])
    }

    /// Whether a posted value fits a TSL dataType as the platform checks it.
    func fits(_ value: Any, _ dataType: [String: Any], _ what: String) {
        let type = dataType["type"] as? String
        let specs = dataType["specs"] as? [String: String] ?? [:]
        switch type {
        case "text":
            guard let s = value as? String else { return XCTFail("\(what): \(value) is not text") }
            XCTAssertLessThanOrEqual(s.utf8.count, Int(specs["length"] ?? "") ?? -1, what)
        case "bool":
            XCTAssertTrue((value as? NSNumber).map { $0 == 0 || $0 == 1 } ?? false, "\(what): \(value) is not 0/1")
        case "int", "float", "double":
            guard let n = value as? NSNumber else { return XCTFail("\(what): \(value) is not a number") }
            if type == "int" { XCTAssertEqual(n.doubleValue.rounded(), n.doubleValue, "\(what): \(n) is not an int") }
            let min = Double(specs["min"] ?? "") ?? .nan, max = Double(specs["max"] ?? "") ?? .nan
            XCTAssertTrue(n.doubleValue >= min && n.doubleValue <= max, "\(what): \(n) outside \(min)…\(max)")
        default:
            XCTFail("\(what): unexpected type \(type ?? "none")")
        }
    }

    func properties(_ model: [String: Any]) -> [String: [String: Any]] {
        Dictionary(uniqueKeysWithValues: (model["properties"] as? [[String: Any]] ?? []).map { ($0["identifier"] as? String ?? "", $0["dataType"] as? [String: Any] ?? [:]) })
    }

    func testTheGatewayModelTakesEveryPostOfEveryShippedProfile() throws {
        let config = try siteConfig()
        let model = try imported(AlinkThingModel.forGateway(config.devices, productKey: "a1B2c3"))
        XCTAssertEqual((model["profile"] as? [String: String])?["productKey"], "a1B2c3")
        let defined = properties(model)
        let format = AlinkFormat(productKey: "a1B2c3", deviceName: "gw-07")
        var posted = 0
        for device in config.devices where device.cloud == nil {
            let records = readings(of: device).enumerated().map { StoredRecord(seq: UInt64($0.offset + 1), record: $0.element) }
            let batch = UplinkBatch(gateway: "g", lane: .telemetry, firstSeq: 1, lastSeq: UInt64(records.count), records: records)
            for message in format.messages(for: batch, sentAt: WallTime(milliseconds: t0 + 6000, clockSynced: true), status: nil) {
                let params = try XCTUnwrap(try json(message.payload)["params"] as? [String: [String: Any]])
                for (identifier, timed) in params {
                    guard let dataType = defined[identifier] else { XCTFail("\(identifier) is posted but not in the model"); continue }
                    fits(try XCTUnwrap(timed["value"]), dataType, identifier)
                    posted += 1
                }
            }
        }
        XCTAssertGreaterThan(posted, 100, "the patterns decode to values of every profile")
        XCTAssertEqual(defined.count, config.devices.filter { $0.cloud == nil }.reduce(0) { $0 + $1.points.count }, "one property per point, none for the sub-device")
        XCTAssertNil(defined["pump_gas_gas"], "a sub-device's points are its own product's")
    }

    func testASubDeviceModelFromItsProfileTakesItsPosts() throws {
        let config = try siteConfig()
        let pump = try XCTUnwrap(config.devices.first { $0.id == "pump-gas" })
        let profile = try XCTUnwrap(try shippedProfiles().first { $0.name == "honeywell-xnx" })
        let defined = properties(try imported(AlinkThingModel.forProfile(profile, productKey: "k9xYz")))
        let format = AlinkFormat(productKey: "a1B2c3", deviceName: "gw-07", subDevices: ["pump-gas": .init(productKey: "k9xYz", deviceName: "pump")])
        let records = readings(of: pump).enumerated().map { StoredRecord(seq: UInt64($0.offset + 1), record: $0.element) }
        let messages = format.messages(for: UplinkBatch(gateway: "g", lane: .telemetry, firstSeq: 1, lastSeq: UInt64(records.count), records: records),
                                       sentAt: WallTime(milliseconds: t0 + 6000, clockSynced: true), status: nil)
        XCTAssertFalse(messages.isEmpty)
        for message in messages {
            XCTAssertTrue(message.topic.hasPrefix("/sys/k9xYz/pump/"), message.topic)
            for (identifier, timed) in try XCTUnwrap(try json(message.payload)["params"] as? [String: [String: Any]]) {
                guard let dataType = defined[identifier] else { XCTFail("\(identifier) is posted but not in the profile's model"); continue }
                fits(try XCTUnwrap(timed["value"]), dataType, identifier)
            }
        }
    }

    func testEveryEventFieldIsAnOutputParameterOfItsEvent() throws {
        let model = try imported(AlinkThingModel.forGateway([], productKey: nil))
        let events = Dictionary(uniqueKeysWithValues: (model["events"] as? [[String: Any]] ?? []).map { ($0["identifier"] as? String ?? "", $0) })
        let time = WallTime(milliseconds: t0, clockSynced: true)
        let alarm = AlarmInfo(point: "gas", level: .highhigh, severity: "A2", value: 51, setpoint: 50, triggerSeq: 3)
        let records: [Record] = [
            .event(Event(timestamp: time, kind: .alarmRaised, device: "gas-1", alarm: alarm)),
            .event(Event(timestamp: time, kind: .alarmCleared, device: "gas-1", alarm: alarm)),
            .event(Event(timestamp: time, kind: .deviceOffline, device: "level-1", bus: "b", detail: "timeout after 3 polls")),
            .event(Event(timestamp: time, kind: .deviceOnline, device: "level-1", bus: "b")),
        ]
        let stored = records.enumerated().map { StoredRecord(seq: UInt64($0.offset + 1), record: $0.element) }
        let messages = AlinkFormat(productKey: "a1", deviceName: "gw").messages(
            for: UplinkBatch(gateway: "g", lane: .events, firstSeq: 1, lastSeq: 4, records: stored), sentAt: time, status: nil)
        XCTAssertEqual(messages.count, 4)
        for message in messages {
            let body = try json(message.payload)
            let method = try XCTUnwrap(body["method"] as? String)
            let event = try XCTUnwrap(events.values.first { $0["method"] as? String == method }, "\(method) has no event in the model")
            XCTAssertEqual(event["type"] as? String, method.contains("alarm") ? "alert" : "info")
            let outputs = Dictionary(uniqueKeysWithValues: (event["outputData"] as? [[String: Any]] ?? []).map { ($0["identifier"] as? String ?? "", $0["dataType"] as? [String: Any] ?? [:]) })
            let value = try XCTUnwrap((body["params"] as? [String: Any])?["value"] as? [String: Any])
            for (field, v) in value {
                guard let dataType = outputs[field] else { XCTFail("\(method): field \(field) is not an output of the event"); continue }
                fits(v, dataType, "\(method).\(field)")
            }
        }
    }

    func testPointTypesBecomeTheirAlinkTypes() throws {
        let byName = Dictionary(uniqueKeysWithValues: try shippedProfiles().map { ($0.name, $0) })
        func type(_ profile: String, _ point: String) throws -> AlinkThingModel.DataType {
            let model = AlinkThingModel.forProfile(try XCTUnwrap(byName[profile]), productKey: nil)
            return try XCTUnwrap(model.properties.first { $0.identifier == point }).dataType
        }
        XCTAssertEqual(try type("draeger-polytron-8000", "gas").type, "float")
        XCTAssertEqual(try type("draeger-polytron-8000", "gas").specs["unit"], "%LEL")
        XCTAssertEqual(try type("system-sensor-faast", "fire1").type, "bool", "a bool goes as 0/1")
        let mode = try type("system-sensor-faast", "operating_mode")
        XCTAssertEqual(mode.type, "int", "a labelled code stays an int: an unknown code must not get a post refused")
        XCTAssertEqual([mode.specs["min"], mode.specs["max"]], ["0", "65535"])
        let level = try type("qdy30a-level", "level")
        XCTAssertEqual(level.type, "double", "decimals_from scales an int16")
        XCTAssertEqual([level.specs["min"], level.specs["max"], level.specs["unit"]], ["-32768", "32767", "m"])
    }

    func testTwoPointsWithOneIdentifierAreNamed() {
        let point = PointSpec(id: "gas", table: .holding, address: 1, type: .float32)
        let devices = [DeviceSpec(id: "gas-1", bus: "b", unit: 1, points: [point]), DeviceSpec(id: "gas.1", bus: "b", unit: 2, points: [point])]
        let collisions = AlinkThingModel.collisions(AlinkThingModel.gatewayEntries(devices))
        XCTAssertEqual(collisions.map(\.device), ["gas.1"])
        XCTAssertTrue(collisions.first?.message.contains("gas_1_gas, as gas-1/gas is") ?? false, collisions.first?.message ?? "")
        let long = DeviceSpec(id: String(repeating: "d", count: 30), bus: "b", unit: 3, points: [PointSpec(id: String(repeating: "p", count: 30), table: .holding, address: 1, type: .uint16)])
        XCTAssertEqual(AlinkThingModel.tooLong(AlinkThingModel.gatewayEntries([long])).count, 1, "61 characters: more than Alink's 50")
    }
}

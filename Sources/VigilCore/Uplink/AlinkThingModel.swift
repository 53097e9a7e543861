/// The thing model (TSL) a product needs on Alibaba Cloud IoT Platform before it
/// takes Vigil's posts, as the vendor's "TSL参数说明"/"TSL parameters" page gives
/// the file: `schema`, `profile.productKey`, `properties[]` (identifier, name,
/// accessMode, required, dataType {type, specs}), `events[]` (identifier, name,
/// type info|alert|error, method, outputData[]) and `services[]`. The installer
/// imports it ("导入物模型") instead of typing every point.
///
/// Built from the same identifiers and value shapes AlinkFormat sends, so a model
/// made here takes every post and event the format makes (AlinkThingModelTests).
public struct AlinkThingModel: Encodable, Sendable, Equatable {
    public var schema = "https://iotx-tsl.oss-ap-southeast-1.aliyuncs.com/schema.json"
    public var profile: [String: String]
    public var properties: [Property]
    public var events: [EventDefinition]
    /// Vigil's points are read-only and it answers no service call.
    public var services: [String] = []

    public struct Property: Encodable, Sendable, Equatable {
        public var identifier: String
        public var name: String
        public var accessMode = "r"
        public var required = false
        public var dataType: DataType
    }

    public struct DataType: Encodable, Sendable, Equatable {
        /// int (32-bit), float, double, bool, text: what AlinkFormat sends.
        public var type: String
        /// As the platform writes them: every value a string.
        public var specs: [String: String]
    }

    public struct Parameter: Encodable, Sendable, Equatable {
        public var identifier: String
        public var name: String
        public var dataType: DataType
    }

    public struct EventDefinition: Encodable, Sendable, Equatable {
        public var identifier: String
        public var name: String
        public var desc: String
        public var type: String
        public var required: Bool
        public var method: String
        public var outputData: [Parameter]
    }

    /// A point with the identifier and name it gets in the model.
    public struct Entry: Sendable {
        public var device: String?
        public var identifier: String
        public var name: String
        public var point: PointSpec
    }

    /// Alink's limits on an identifier: letters, digits and `_`, at most 50 characters.
    public static let maxIdentifierLength = 50
    /// A name: at most 30 characters, of letters, digits, `-`, `_`, `/`, `.` (and CJK).
    public static let maxNameLength = 30

    public init(productKey: String?, entries: [Entry]) {
        profile = productKey.map { ["productKey": $0] } ?? [:]
        properties = entries.map { Property(identifier: $0.identifier, name: Self.name($0.name), dataType: Self.dataType(of: $0.point)) }
        events = [
            EventDefinition(identifier: "post", name: "post", desc: "properties reported", type: "info", required: true,
                            method: "thing.event.property.post",
                            outputData: properties.map { Parameter(identifier: $0.identifier, name: $0.name, dataType: $0.dataType) }),
            EventDefinition(identifier: "alarm", name: "alarm", desc: "a Vigil alarm raised or cleared", type: "alert", required: false,
                            method: "thing.event.alarm.post",
                            outputData: [Self.text("device"), Self.text("point"), Self.text("level"), Self.text("state"),
                                         Self.number("value"), Self.number("setpoint")]),
            EventDefinition(identifier: "device_state", name: "device_state", desc: "a device online or offline", type: "info", required: false,
                            method: "thing.event.device_state.post",
                            outputData: [Self.text("device"), Self.text("state"), Self.text("detail", length: 1024)]),
        ]
    }

    /// A product whose devices are each a sub-device with this profile: identifier = point id.
    public static func forProfile(_ profile: Profile, productKey: String?) -> AlinkThingModel {
        AlinkThingModel(productKey: productKey, entries: profileEntries(profile))
    }

    public static func profileEntries(_ profile: Profile) -> [Entry] {
        profile.points.map { Entry(device: nil, identifier: AlinkFormat.identifier(point: $0.id), name: $0.id, point: $0) }
    }

    /// The gateway's own product: every point of every device without a cloud identity,
    /// identifier `<device>_<point>`, as AlinkFormat posts them.
    public static func forGateway(_ devices: [DeviceSpec], productKey: String?) -> AlinkThingModel {
        AlinkThingModel(productKey: productKey, entries: gatewayEntries(devices))
    }

    public static func gatewayEntries(_ devices: [DeviceSpec]) -> [Entry] {
        devices.filter { $0.cloud == nil }.flatMap { d in
            d.points.map { Entry(device: d.id, identifier: AlinkFormat.identifier(device: d.id, point: $0.id), name: "\(d.id)/\($0.id)", point: $0) }
        }
    }

    /// Two points whose identifiers come out the same (`gas-1/x` and `gas_1/x`): the
    /// platform would see one property. Named at the second of the two.
    public static func collisions(_ entries: [Entry]) -> [(device: String?, message: String)] {
        var owner: [String: String] = [:]
        return entries.compactMap { e in
            if let first = owner[e.identifier] {
                return (e.device, "point \(e.name) would be Alink/OneNET property \(e.identifier), as \(first) is: the platform would see one property; rename one")
            }
            owner[e.identifier] = e.name
            return nil
        }
    }

    /// Identifiers longer than the platform takes.
    public static func tooLong(_ entries: [Entry]) -> [String] {
        entries.filter { $0.identifier.count > maxIdentifierLength }.map {
            "\($0.name): identifier \($0.identifier) is longer than Alink's \(maxIdentifierLength) characters; shorten the device or point id"
        }
    }

    /// The value's shape as AlinkFormat posts it (PointDecoder's value, booleans as 0/1).
    static func dataType(of p: PointSpec) -> DataType {
        let scaled = p.scale != 1 || p.offset != 0 || p.decimalsFrom != nil
        var specs: [String: String] = [:]
        if let unit = p.unit { specs["unit"] = unit; specs["unitName"] = unit }
        switch p.type {
        case .bool:
            return DataType(type: "bool", specs: ["0": p.labels[0] ?? "off", "1": p.labels[1] ?? "on"])
        case .string:
            return DataType(type: "text", specs: ["length": "\(min(2 * (p.length ?? 1), 10240))"])
        case .float32 where !scaled:
            specs.merge(["min": "-3.4E38", "max": "3.4E38", "step": "0.01"]) { $1 }
            return DataType(type: "float", specs: specs)
        default:
            break
        }
        let range = rawRange(p.type)
        // A point with labels (a mode or status code) stays an int, not an enum: a code the
        // labels lack would have the platform refuse the whole post it is in.
        if !scaled, p.type != .float64, range.lowerBound >= -2_147_483_648, range.upperBound <= 2_147_483_647 {
            specs.merge(["min": format(range.lowerBound), "max": format(range.upperBound), "step": "1"]) { $1 }
            return DataType(type: "int", specs: specs)
        }
        // Scaled (and decimals_from, at its widest: no decimals), 64-bit and uint32 values: double.
        let ends = [range.lowerBound * p.scale + p.offset, range.upperBound * p.scale + p.offset]
        specs.merge(["min": format(ends.min()!), "max": format(ends.max()!),
                     "step": p.scale != 1 && p.decimalsFrom == nil ? format(abs(p.scale)) : "0.01"]) { $1 }
        return DataType(type: "double", specs: specs)
    }

    private static func rawRange(_ type: ValueType) -> ClosedRange<Double> {
        switch type {
        case .bool: 0...1
        case .int16: Double(Int16.min)...Double(Int16.max)
        case .uint16: 0...Double(UInt16.max)
        case .int32: Double(Int32.min)...Double(Int32.max)
        case .uint32: 0...Double(UInt32.max)
        case .int64: Double(Int64.min)...Double(Int64.max)
        case .uint64: 0...Double(UInt64.max)
        case .float32: -3.4e38...3.4e38
        case .float64, .string: -1.7e308...1.7e308
        }
    }

    /// Names allow fewer characters than Vigil's ids: the others become `_`; cut to the limit.
    static func name(_ text: String) -> String {
        let allowed = text.map { c -> Character in
            c.isLetter || c.isNumber || "-_/.".contains(c) ? c : "_"
        }
        return String(allowed.prefix(maxNameLength))
    }

    private static func text(_ id: String, length: Int = 64) -> Parameter {
        Parameter(identifier: id, name: id, dataType: DataType(type: "text", specs: ["length": "\(length)"]))
    }

    private static func number(_ id: String) -> Parameter {
        Parameter(identifier: id, name: id, dataType: DataType(type: "double", specs: ["min": "-1.7E308", "max": "1.7E308", "step": "0.01"]))
    }
}

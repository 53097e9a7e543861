/// A command a platform sent down the uplink (ThingsBoard RPC), parsed by the
/// format, carried out by the agent, answered through the format again.
public struct RemoteCommand: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Acknowledge the active alarms of a point (one level, or every level when nil).
        case alarmAck(point: String, level: AlarmLevel?)
        /// Read registers or bits through the bus worker, as `vigil diag read` does.
        case read(table: RegisterTable, address: Int, count: Int)
        /// Write registers or coils, only where the config's `commands.allow_writes` grants it.
        case write(table: RegisterTable, address: Int, values: [UInt16])
        /// Not understood: the reason goes back in the reply.
        case invalid(String)
        /// Publish the births again (Sparkplug's `Node Control/Rebirth`): the transport does it, the agent is not asked.
        case announceAgain
    }

    public var device: String
    /// The request's id as the platform wrote it (JSON text), echoed in the reply.
    public var idJSON: String
    public var method: String
    public var action: Action

    public init(device: String, idJSON: String, method: String, action: Action) {
        self.device = device; self.idJSON = idJSON; self.method = method; self.action = action
    }

    /// The methods a platform can call, for error messages and docs.
    public static let methods = ["alarm_ack", "read", "write"]

    /// The action a method and its parameters ask for.
    public static func action(method: String, params: JSONNode?) -> Action {
        func string(_ key: String) -> String? { if case .string(let s)? = params?[key]?.value { s } else { nil } }
        func integer(_ key: String) -> Int?? {
            guard let node = params?[key] else { return .some(nil) }
            guard case .number(let v) = node.value, v.rounded() == v, abs(v) < 1e9 else { return nil }
            return .some(Int(v))
        }
        switch method {
        case "alarm_ack":
            guard let point = string("point") else { return .invalid("alarm_ack: params.point (the point's id) is required") }
            guard let levelText = string("level") else { return .alarmAck(point: point, level: nil) }
            guard let level = AlarmLevel(rawValue: levelText) else {
                return .invalid("alarm_ack: params.level \"\(levelText)\" is not one of \(AlarmLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .alarmAck(point: point, level: level)
        case "read", "write":
            let tableText = string("table") ?? "holding"
            guard let table = RegisterTable(rawValue: tableText) else {
                return .invalid("\(method): params.table \"\(tableText)\" is not one of \(RegisterTable.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let address = integer("address"), let address, (0...65_535).contains(address) else {
                return .invalid("\(method): params.address (0-65535) is required")
            }
            if method == "read" {
                guard let count = integer("count"), (1...125).contains(count ?? 1) else { return .invalid("read: params.count must be 1-125") }
                return .read(table: table, address: address, count: count ?? 1)
            }
            guard !table.isReadOnly else { return .invalid("write: table \(table.rawValue) cannot be written (holding or coil)") }
            var values: [UInt16] = []
            let nodes: [JSONNode]
            switch (params?["values"]?.value, params?["value"]) {
            case (.array(let items)?, _): nodes = items
            case (nil, let one?): nodes = [one]
            default: return .invalid("write: params.value (a number) or params.values (an array of numbers) is required")
            }
            for node in nodes {
                switch node.value {
                case .number(let v) where v.rounded() == v && (0...65_535).contains(v): values.append(UInt16(v))
                case .bool(let b) where table == .coil: values.append(b ? 1 : 0)
                default: return .invalid("write: each value must be a whole number 0-65535\(table == .coil ? " or a boolean" : ""), found \(node.kindName)")
                }
            }
            guard (1...123).contains(values.count) else { return .invalid("write: 1-123 values") }
            return .write(table: table, address: address, values: values)
        default:
            return .invalid("unknown method \"\(method)\"; the gateway answers \(methods.joined(separator: ", "))")
        }
    }
}

/// How a command went: a JSON object's members to add to the reply, or why it failed.
public enum RemoteCommandResult: Sendable, Equatable {
    /// `members`: JSON text of object members without braces, such as `"values":[1,2]` (may be empty).
    case success(members: String)
    case failure(String)
}

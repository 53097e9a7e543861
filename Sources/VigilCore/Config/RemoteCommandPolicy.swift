/// What a platform may ask of the gateway through its uplink (ThingsBoard
/// RPC, Sparkplug DCMD). Reads and alarm acknowledgements are always allowed;
/// a write only to a register or coil the config names, because a write
/// reaches a safety device on the plant (`commands: { allow_writes: [...] }`).
public struct RemoteCommandPolicy: Sendable, Equatable {
    /// `DEVICE/TABLE:ADDRESS` (one holding register or coil) or `DEVICE/*`.
    public struct WriteGrant: Sendable, Equatable, CustomStringConvertible {
        public var device: String
        /// nil: every holding register and coil of the device.
        public var table: RegisterTable?
        public var address: Int?

        public init(device: String, table: RegisterTable? = nil, address: Int? = nil) {
            self.device = device; self.table = table; self.address = address
        }

        /// `gas-1/holding:40`, `gas-1/coil:0` or `gas-1/*`; nil for anything else.
        public init?(parsing text: String) {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else { return nil }
            device = String(parts[0])
            if parts[1] == "*" { table = nil; address = nil; return }
            let place = parts[1].split(separator: ":", omittingEmptySubsequences: false)
            guard place.count == 2, let t = RegisterTable(rawValue: String(place[0])), !t.isReadOnly,
                  let a = Int(place[1]), (0...65_535).contains(a) else { return nil }
            table = t; address = a
        }

        public var description: String {
            guard let table, let address else { return "\(device)/*" }
            return "\(device)/\(table.rawValue):\(address)"
        }

        func covers(device: String, table: RegisterTable, address: Int) -> Bool {
            guard device == self.device, !table.isReadOnly else { return false }
            guard let grantTable = self.table, let grantAddress = self.address else { return true }
            return grantTable == table && grantAddress == address
        }
    }

    public var allowWrites: [WriteGrant] = []

    public init(allowWrites: [WriteGrant] = []) { self.allowWrites = allowWrites }

    /// Whether writing `count` registers or coils from `address` is allowed: every one of them must be granted.
    public func allowsWrite(device: String, table: RegisterTable, address: Int, count: Int) -> Bool {
        count > 0 && (address..<address + count).allSatisfy { a in allowWrites.contains { $0.covers(device: device, table: table, address: a) } }
    }
}

extension RegisterTable {
    /// Discrete inputs and input registers cannot be written.
    public var isReadOnly: Bool { self == .discrete || self == .input }
}

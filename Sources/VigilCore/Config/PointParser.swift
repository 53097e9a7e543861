/// Validates one `points[]` entry, in a config or in a profile.
public enum PointParser {
    static let keys = ["id", "table", "address", "register", "type", "order", "bit", "length", "scale",
                       "offset", "decimals_from", "unit", "enum", "alarms", "role", "report"]
    static let alarmKeys = ["high", "highhigh", "low", "lowlow", "deadband", "on_delay_ms", "off_delay_ms",
                            "latch", "severity", "rise_per_min", "allow_above_standard"]

    /// Largest register count one request may carry (Modbus function 3/4).
    static let maxRegistersPerRequest = 125

    static func parse(_ node: JSONNode, path: String, diagnostics: Diagnostics) -> PointSpec? {
        guard let r = ObjectReader(node, path: path, diagnostics: diagnostics, keys: keys) else { return nil }
        let before = diagnostics.issues.count
        let id = r.string("id", required: true)
        let (table, address) = tableAndAddress(r)
        let explicitType = r.choice("type", as: ValueType.self)
        let type = explicitType ?? (table?.isBitTable == true ? .bool : .uint16)
        let order = r.choice("order", as: WordOrder.self)
        let bit = r.integer("bit", range: 0...15)
        let length = r.integer("length", range: 1...1000)
        let scale = r.number("scale")
        let offset = r.number("offset") ?? 0
        let decimalsFrom = r.string("decimals_from")
        let unit = r.string("unit")
        let labels = parseLabels(r)
        let alarms = r.object("alarms", keys: alarmKeys).map(parseAlarms)
        let role = r.choice("role", as: PointRole.self)
        if role == .mode && labels.isEmpty { r.report("role", "a mode point needs \"enum\" labels (warm-up, inhibit, calibration, …)") }

        if let table {
            if table.isBitTable {
                if explicitType != nil && type != .bool { r.report("type", "a \(table.rawValue) is a single bit: the type must be bool") }
                if bit != nil { r.report("bit", "a \(table.rawValue) is already a single bit; \"bit\" applies to holding and input registers") }
            } else if type == .bool && bit == nil && r.has("type") {
                r.report("type", "a bool in a \(table.rawValue) register needs \"bit\" (0–15)")
            }
        }
        if bit != nil && type != .bool { r.report("bit", "\"bit\" needs type bool, not \(type.rawValue)") }
        if type == .string && length == nil { r.report("length", "is required for strings (registers, two characters each)") }
        if type != .string && length != nil { r.report("length", "applies only to strings") }
        if order != nil, let count = type.fixedRegisterCount, count < 2 {
            r.report("order", "applies only to values of 2 or 4 registers, not \(type.rawValue)")
        }
        if scale == 0 { r.report("scale", "must not be 0") }
        if decimalsFrom != nil && (type == .string || type == .bool) { r.report("decimals_from", "applies only to numbers") }

        var point = PointSpec(id: id ?? "", table: table ?? .holding, address: address ?? 0, type: type,
                              order: order ?? .abcd, bit: bit, length: length, scale: scale ?? 1, offset: offset,
                              decimalsFrom: decimalsFrom, unit: unit, labels: labels, alarms: alarms)
        if table != nil, let address {
            let width = point.width
            if !point.table.isBitTable && width > maxRegistersPerRequest {
                r.report("length", "a point \(width) registers wide cannot be read in one request (at most \(maxRegistersPerRequest))")
            } else if address + width - 1 > 65535 {
                r.report(r.has("register") ? "register" : "address", "the point ends at \(address + width - 1), past the last address 65535")
            }
        }
        point.id = id ?? ""
        point.role = role
        point.report = r.object("report", keys: ReportPolicy.keys).flatMap(ReportPolicy.parse)
        return diagnostics.issues.count == before ? point : nil
    }

    /// `table` + `address` (0-based), or `register` in the manual numbering
    /// (40001 = holding address 0, 30001 = input 0, 10001 = discrete 0, 1 = coil 0).
    private static func tableAndAddress(_ r: ObjectReader) -> (RegisterTable?, Int?) {
        let table = r.choice("table", as: RegisterTable.self)
        if r.has("register") {
            if r.has("address") { r.report("register", "give either \"address\" (0-based) or \"register\" (manual numbering), not both") }
            guard let number = r.integer("register", range: 1...465536) else { return (table, nil) }
            guard let (manualTable, address) = decodeManualRegister(number) else {
                r.report("register", "\(number) is not in the manual numbering (00001–09999 coils, 10001–19999 discrete inputs, 30001–39999 input registers, 40001–49999 holding registers, or six digits 100001–465536)")
                return (table, nil)
            }
            if let table, table != manualTable {
                r.report("table", "\"\(table.rawValue)\" disagrees with register \(number), which is a \(manualTable.rawValue) register")
            }
            return (manualTable, address)
        }
        if table == nil && !r.has("table") { r.report("table", "is required (coil, discrete, holding or input), or give \"register\" in the manual numbering") }
        let address = r.integer("address", required: true, range: 0...65535)
        return (table, address)
    }

    public static func decodeManualRegister(_ n: Int) -> (RegisterTable, Int)? {
        switch n {
        case 1...9999: return (.coil, n - 1)
        case 10001...19999: return (.discrete, n - 10001)
        case 30001...39999: return (.input, n - 30001)
        case 40001...49999: return (.holding, n - 40001)
        case 100001...165536: return (.discrete, n - 100001)
        case 300001...365536: return (.input, n - 300001)
        case 400001...465536: return (.holding, n - 400001)
        default: return nil
        }
    }

    private static func parseLabels(_ r: ObjectReader) -> [Int64: String] {
        guard let members = r.freeObject("enum") else { return [:] }
        var labels: [Int64: String] = [:]
        for member in members {
            let path = "\(r.childPath("enum")).\(member.key)"
            guard let code = Int64(member.key) ?? parseHex(member.key) else {
                r.diagnostics.report(path, at: member.keyLocation, "enum keys are register codes (whole numbers), not \"\(member.key)\"")
                continue
            }
            guard case .string(let label) = member.value.value else {
                r.diagnostics.report(path, at: member.value.location, "expected a label string, found \(member.value.kindName)")
                continue
            }
            labels[code] = label
        }
        return labels
    }

    private static func parseHex(_ s: String) -> Int64? {
        guard s.hasPrefix("0x") || s.hasPrefix("0X") else { return nil }
        return Int64(s.dropFirst(2), radix: 16)
    }

    private static func parseAlarms(_ a: ObjectReader) -> AlarmSetpoints {
        var s = AlarmSetpoints()
        s.high = a.number("high")
        s.highHigh = a.number("highhigh")
        s.low = a.number("low")
        s.lowLow = a.number("lowlow")
        s.deadband = a.number("deadband", range: 0...Double.greatestFiniteMagnitude)
        s.onDelayMs = a.integer("on_delay_ms", range: 0...86_400_000)
        s.offDelayMs = a.integer("off_delay_ms", range: 0...86_400_000)
        s.latch = a.bool("latch")
        s.severity = a.string("severity")
        s.risePerMinute = a.number("rise_per_min")
        s.allowAboveStandard = a.bool("allow_above_standard")
        if let high = s.high, let highHigh = s.highHigh, highHigh < high {
            a.report("highhigh", "\(format(highHigh)) is below high (\(format(high)))")
        }
        if let low = s.low, let lowLow = s.lowLow, lowLow > low {
            a.report("lowlow", "\(format(lowLow)) is above low (\(format(low)))")
        }
        return s
    }
}

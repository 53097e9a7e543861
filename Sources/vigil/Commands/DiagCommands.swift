import Glibc
import VigilAgent

/// Shows a probe's answer: the way it went, the frames, the registers, and
/// the values decoded with --type/--order. Exit 3 when the device did not answer
/// or refused.
func report(_ answer: ProbeAnswer, probe: ModbusProbe, selection: RegisterSelection, json: Bool) -> Int32 {
    let shown = ProbeReport(answer, probe: probe, selection: selection)
    if json {
        say(ControlClient.json(shown))
    } else {
        var out = "\(answer.path) · unit \(probe.unit) · \(probe.table.rawValue) \(probe.address)"
        out += probe.count > 1 ? "…\(probe.address + probe.count - 1)" : ""
        out += " · \(String(format1: answer.milliseconds)) ms\n"
        out += "request   \(answer.request)\n"
        out += "response  \(answer.response ?? "(none)")\n"
        if let error = answer.error { out += "error     \(error)\n" }
        if let registers = shown.registers {
            var table = Table("ADDRESS", "REGISTER", "HEX", "UINT16", "INT16")
            for r in registers { table.add("\(r.address)", r.register, r.hex, "\(r.uint16)", "\(r.int16)") }
            out += table.text + "\n"
        }
        if let decoded = shown.decoded {
            out += "\(decoded.type) \(decoded.order): \(decoded.values.map { $0.text }.joined(separator: ", "))\n"
        }
        if let bits = shown.bits {
            var table = Table("ADDRESS", "REGISTER", "VALUE")
            for b in bits { table.add("\(b.address)", b.register, b.value ? "1" : "0") }
            out += table.text + "\n"
        }
        say(out, terminator: "")
    }
    return answer.error == nil ? ExitCode.ok : ExitCode.device
}

/// What `diag read` shows, table or `--json` alike: the answer, each register
/// or bit with its manual number, and the values decoded with --type/--order.
struct ProbeReport: Encodable {
    struct Register: Encodable { var address: Int; var register: String; var hex: String; var uint16: UInt16; var int16: Int16 }
    struct Bit: Encodable { var address: Int; var register: String; var value: Bool }
    struct Decoded: Encodable { var type: String; var order: String; var values: [PointValue] }

    var answer: ProbeAnswer
    var probe: ModbusProbe
    var registers: [Register]?
    var bits: [Bit]?
    var decoded: Decoded?

    init(_ answer: ProbeAnswer, probe: ModbusProbe, selection: RegisterSelection) {
        self.answer = answer
        self.probe = probe
        registers = answer.words.map { words in
            words.enumerated().map { i, w in
                Register(address: probe.address + i, register: manualNumber(probe.table, probe.address + i), hex: RegisterCodec.hex([w]),
                         uint16: w, int16: Int16(bitPattern: w))
            }
        }
        bits = answer.bits.map { bits in
            bits.enumerated().map { i, b in Bit(address: probe.address + i, register: manualNumber(probe.table, probe.address + i), value: b) }
        }
        if let words = answer.words, let type = selection.type, type != .bool {
            let width = type.fixedRegisterCount ?? words.count
            let values = stride(from: 0, through: words.count - width, by: max(width, 1)).map { i in
                PointValue(RegisterCodec.decode(words[i..<i + width], type: type, order: selection.order), type: type)
            }
            decoded = Decoded(type: type.rawValue, order: selection.order.rawValue, values: values)
        }
    }

    /// The answer's own fields at the top level, as before, with the rest beside them.
    func encode(to encoder: any Encoder) throws {
        try answer.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(probe.unit, forKey: .unit)
        try c.encode(probe.table.rawValue, forKey: .table)
        try c.encode(probe.address, forKey: .address)
        try c.encode(probe.count, forKey: .count)
        try c.encodeIfPresent(registers, forKey: .registers)
        try c.encodeIfPresent(bits, forKey: .bitTable)
        try c.encodeIfPresent(decoded, forKey: .decoded)
    }
    private enum Keys: String, CodingKey { case unit, table, address, count, registers, bitTable = "bit_table", decoded }
}

/// Sends one probe the way `target` says and reports it; the exit code.
func runAndReport(_ probe: ModbusProbe, target: ProbeTarget, selection: RegisterSelection, options: ControlOptions) -> Int32 {
    do {
        return report(try target.run(probe, client: options.client), probe: probe, selection: selection, json: options.json)
    } catch {
        printError("vigil: \(error)")
        return error.code
    }
}

func manualNumber(_ table: RegisterTable, _ address: Int) -> String {
    guard address < 9999 else { return "-" }
    switch table {
    case .coil: return "\(address + 1)"
    case .discrete: return "\(10001 + address)"
    case .input: return "\(30001 + address)"
    case .holding: return "\(40001 + address)"
    }
}

struct DiagReadCommand: Command {
    static let name = "diag read"
    static let summary = "read registers or bits, like mbpoll: raw hex and decoded"
    static let usage = """
        vigil diag read (--bus ID | --tcp HOST[:PORT] | --rtu DEVICE ...) --address A [options]

        When the agent owns the line, the request goes through its bus worker
        between polls instead of opening the port a second time.
        \(ProbeTarget.usage)
        \(RegisterSelection.usage)
        \(ControlOptions.usage)
        Exit 3 when the device does not answer or answers with an exception.
        """

    var options: ControlOptions
    var target: ProbeTarget
    var selection: RegisterSelection

    init(_ arguments: inout Arguments) throws(UsageError) {
        options = try ControlOptions(&arguments)
        target = try ProbeTarget(&arguments)
        selection = try RegisterSelection(&arguments)
    }

    func run() -> Int32 {
        runAndReport(ModbusProbe(operation: .read, unit: selection.unit, table: selection.table, address: selection.address, count: selection.count),
                     target: target, selection: selection, options: options)
    }
}

struct DiagWriteCommand: Command {
    static let name = "diag write"
    static let summary = "write holding registers or coils (needs --yes)"
    static let usage = """
        vigil diag write (--bus ID | --tcp ... | --rtu ...) --address A (--values W,W,... | --value X --type T [--order O]) --yes

          --values W,W,...   register words (0–65535), or 0/1 for coils
          --value X          one value, encoded with --type and --order
          --yes              writes change a device's settings or outputs: say so
        \(ProbeTarget.usage)
        \(RegisterSelection.usage)
        \(ControlOptions.usage)
        The agent logs who wrote what.
        """

    var options: ControlOptions
    var target: ProbeTarget
    var selection: RegisterSelection
    var values: [UInt16]

    init(_ arguments: inout Arguments) throws(UsageError) {
        options = try ControlOptions(&arguments)
        target = try ProbeTarget(&arguments)
        let yes = arguments.flag("--yes")
        let list = try arguments.option("--values"), single = try arguments.option("--value")
        selection = try RegisterSelection(&arguments, countDefault: 1)
        guard selection.table == .holding || selection.table == .coil else { throw UsageError("--table: only holding registers and coils can be written") }
        if let list {
            values = try list.split(separator: ",").map { w throws(UsageError) -> UInt16 in
                guard let v = UInt16(w.trimmingCharacters(in: " ")) else { throw UsageError("--values: '\(w)' is not 0–65535") }
                return v
            }
        } else if let single, let type = selection.type {
            guard let number = Double(single) else { throw UsageError("--value: '\(single)' is not a number") }
            let raw: RawValue = switch type {
            case .float32, .float64: .float(number)
            case .int16, .int32, .int64: .signed(Int64(number))
            default: .unsigned(UInt64(max(0, number)))
            }
            values = RegisterCodec.encode(raw, type: type, order: selection.order)
        } else {
            throw UsageError("give --values W,W,... or --value X with --type")
        }
        if selection.table == .coil, values.contains(where: { $0 > 1 }) { throw UsageError("--values: coils take 0 or 1") }
        selection.count = values.count
        guard yes else { throw UsageError("a write changes the device: add --yes to do it") }
    }

    func run() -> Int32 {
        runAndReport(ModbusProbe(operation: .write, unit: selection.unit, table: selection.table, address: selection.address,
                                 count: values.count, values: values),
                     target: target, selection: selection, options: options)
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> Substring {
        var s = self
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return s
    }
}

struct DiagScanCommand: Command {
    static let name = "diag scan"
    static let summary = "find which unit ids answer on a line"
    static let usage = """
        vigil diag scan (--bus ID | --tcp ... | --rtu ...) [--units 1-247] [--timeout-ms 100]

          --units A-B        the unit ids to try (default 1-247)
          --address A        the holding register asked for (default 0); an exception
                             answer counts: the device is there
        \(ProbeTarget.usage)
        \(ControlOptions.usage)
        Through the agent, each unit is one request between polls: polling goes on.
        """

    var options: ControlOptions
    var target: ProbeTarget
    var units: ClosedRange<Int>
    var address: Int

    init(_ arguments: inout Arguments) throws(UsageError) {
        options = try ControlOptions(&arguments)
        target = try ProbeTarget(&arguments)
        if target.timeoutMs == nil { target.timeoutMs = 100 }
        address = try Arguments.number(arguments.option("--address"), "--address") ?? 0
        let text = try arguments.option("--units") ?? "1-247"
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2 || parts.count == 1, let low = parts.first, let high = parts.last, low <= high, low >= 0, high <= 255 else {
            throw UsageError("--units: expected A-B within 0-255, got '\(text)'")
        }
        units = low...high
    }

    func run() -> Int32 {
        var found: [(Int, ProbeAnswer)] = []
        do {
            for unit in units {
                let answer = try target.run(ModbusProbe(operation: .read, unit: unit, table: .holding, address: address, count: 1), client: options.client)
                if answer.answered { found.append((unit, answer)) }
                if !options.json && isatty(STDERR_FILENO) != 0 { printError("\u{1B}[2K\rscanning unit \(unit)…", newline: false) }
            }
        } catch {
            printError("vigil: \(error)")
            return error.code
        }
        if !options.json && isatty(STDERR_FILENO) != 0 { printError("\u{1B}[2K\r", newline: false) }
        if options.json {
            say(ControlClient.json(found.map { ScanHit(unit: $0.0, answer: $0.1) }))
        } else {
            var table = Table("UNIT", "ANSWER", "TIME")
            for (unit, a) in found { table.add("\(unit)", a.exception.map { "exception \($0) (it is there)" } ?? "registers", String(format1: a.milliseconds) + " ms") }
            say(found.isEmpty ? "no unit in \(units.lowerBound)-\(units.upperBound) answered" : table.text)
        }
        return found.isEmpty ? ExitCode.device : ExitCode.ok
    }

    struct ScanHit: Codable { var unit: Int; var answer: ProbeAnswer }
}

struct DiagWatchCommand: Command {
    static let name = "diag watch"
    static let summary = "a device's values, refreshed live"
    static let usage = """
        vigil diag watch DEVICE [--interval SECONDS] [--count N]

          --interval SECONDS   refresh every (default 1)
          --count N            stop after N refreshes (default: until Ctrl-C)
        With --json: JSON Lines, one {"device", "time", "values"} document per refresh.
        \(ControlOptions.usage)
        """

    var options: ControlOptions
    var device: String
    var interval: Double
    var count: Int?

    init(_ arguments: inout Arguments) throws(UsageError) {
        options = try ControlOptions(&arguments)
        interval = try Arguments.number(arguments.option("--interval"), "--interval") ?? 1
        count = try Arguments.number(arguments.option("--count"), "--count")
        guard let device = arguments.positional() else { throw UsageError("which device?") }
        self.device = device
    }

    func run() -> Int32 {
        var request = ControlRequest("values")
        request.device = device
        var n = 0
        let tty = isatty(STDOUT_FILENO) != 0
        while count.map({ n < $0 }) ?? true {
            do {
                let values = try options.client.send(request, as: [ValueReport].self)
                if options.json {
                    // JSON Lines: one document per refresh, so a script reads it line by line.
                    say(ControlClient.jsonLine(WatchRefresh(device: device, time: SystemClock.shared.now().iso8601, values: values)))
                } else {
                    say((tty ? "\u{1B}[H\u{1B}[2J" : "") + "\(device) at \(SystemClock.shared.now().iso8601) (every \(interval) s; Ctrl-C to stop)\n" + ValuesCommand.render(values))
                }
            } catch {
                printError("vigil: \(error)")
                return error.code
            }
            n += 1
            if count.map({ n < $0 }) ?? true { usleep(useconds_t(interval * 1e6)) }
        }
        return ExitCode.ok
    }
}

/// One refresh of `diag watch --json`.
struct WatchRefresh: Encodable {
    var device: String
    var time: String
    var values: [ValueReport]
}

struct DiagFramesCommand: Command {
    static let name = "diag frames"
    static let summary = "the last requests and answers on a bus, in hex"
    static let usage = """
        vigil diag frames --bus ID [--json] [--socket PATH]

        The Modbus PDU (function code and data) of each of the bus worker's last
        64 requests and answers; libmodbus adds the framing (MBAP on TCP, unit and
        CRC on RTU).
        \(ControlOptions.usage)
        """

    var options: ControlOptions
    var bus: String

    init(_ arguments: inout Arguments) throws(UsageError) {
        options = try ControlOptions(&arguments)
        guard let bus = try arguments.option("--bus") else { throw UsageError("--bus is required") }
        self.bus = bus
    }

    func run() -> Int32 {
        var request = ControlRequest("frames")
        request.bus = bus
        return options.run(request, as: [FrameRecord].self) { frames in
            var table = Table("TIME", "BY", "UNIT", "REQUEST", "RESPONSE", "MS")
            for f in frames {
                table.add(f.time, f.origin, "\(f.unit)", f.request, f.response ?? "(\(f.error ?? "none"))", String(format1: f.milliseconds))
            }
            return frames.isEmpty ? "no frames yet" : table.text
        }
    }
}

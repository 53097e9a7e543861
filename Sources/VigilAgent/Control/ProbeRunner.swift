import VigilCore
import VigilModbus

/// Runs a `ModbusProbe` on an open client: one request, no retries (a
/// technician wants to see what the line does, not what a retry hides).
enum ProbeRunner {
    struct Outcome {
        var words: [UInt16]?
        var bits: [Bool]?
        var failure: ModbusError?
        var milliseconds: Double
    }

    static func run(_ probe: ModbusProbe, on client: ModbusClient, busTimeoutMs: Int, path: String) -> ProbeAnswer {
        let o = execute(probe, on: client, busTimeoutMs: busTimeoutMs)
        return answer(probe, words: o.words, bits: o.bits, failure: o.failure, ms: o.milliseconds, path: path)
    }

    static func execute(_ probe: ModbusProbe, on client: ModbusClient, busTimeoutMs: Int) -> Outcome {
        if let t = probe.timeoutMs { client.setTimeout(ms: t) }
        defer { if probe.timeoutMs != nil { client.setTimeout(ms: busTimeoutMs) } }
        let start = monotonicNanos()
        var o = Outcome(milliseconds: 0)
        do throws(ModbusError) {
            switch (probe.operation, probe.table.isBitTable) {
            case (.read, false): o.words = try client.readRegisters(unit: probe.unit, table: probe.table, address: probe.address, count: probe.count)
            case (.read, true): o.bits = try client.readBits(unit: probe.unit, table: probe.table, address: probe.address, count: probe.count)
            case (.write, false): try client.writeRegisters(unit: probe.unit, address: probe.address, probe.values ?? [])
            case (.write, true): try client.writeCoils(unit: probe.unit, address: probe.address, (probe.values ?? []).map { $0 != 0 })
            }
        } catch {
            o.failure = error
        }
        o.milliseconds = Double(monotonicNanos() - start) / 1e6
        return o
    }

    static func answer(_ probe: ModbusProbe, words: [UInt16]?, bits: [Bool]?, failure: ModbusError?, ms: Double, path: String) -> ProbeAnswer {
        guard let failure else {
            return ProbeAnswer(words: words, bits: bits, milliseconds: ms, request: probe.requestHex,
                               response: probe.responseHex(words: words, bits: bits), path: path)
        }
        if case .exception(let code) = failure {
            return ProbeAnswer(error: failure.description, exception: code.rawValue, milliseconds: ms, request: probe.requestHex,
                               response: probe.exceptionHex(code.rawValue), path: path)
        }
        return ProbeAnswer(error: failure.description, milliseconds: ms, request: probe.requestHex, response: nil, path: path)
    }
}

/// A probe on a line no agent owns (`vigil diag read --rtu …` with the agent
/// stopped, or a device not in the config): opens it, asks once, closes it.
public func runDirectProbe(_ probe: ModbusProbe, transport: BusTransport, timeoutMs: Int) -> ProbeAnswer {
    let path = "\(transport.endpointName) (direct)"
    do throws(ModbusError) {
        let client = try ModbusClient(transport: transport, timeoutMs: timeoutMs)
        try client.connect()
        defer { client.close() }
        return ProbeRunner.run(probe, on: client, busTimeoutMs: timeoutMs, path: path)
    } catch {
        return ProbeAnswer(error: "cannot open \(transport.endpointName): \(error)", milliseconds: 0, request: probe.requestHex, response: nil, path: path)
    }
}

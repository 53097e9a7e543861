import Glibc
import VigilCore
import VigilModbus

/// The bus worker's connection: opens it (with backoff when that fails),
/// keeps the silence between frames, retries, flushes after garbage, and
/// reopens after the link is lost (a dropped TCP peer, a USB adapter unplugged).
struct BusLink {
    let bus: BusSpec
    private var client: ModbusClient?
    private var backoff = Backoff()
    private var nextAttempt: Int64 = 0
    private var lastFrameEnd: Int64 = 0
    private var reportedDown = false
    private(set) var lastOpenError: String?
    private(set) var reconnects = 0
    /// Every request and its answer, for `vigil diag frames`.
    let frames: FrameLog

    init(bus: BusSpec, frames: FrameLog = FrameLog()) { self.bus = bus; self.frames = frames }

    var isConnected: Bool { client?.isConnected ?? false }

    /// Opens the link if it is closed and the backoff allows; returns a bus
    /// event when the bus goes down or comes back.
    mutating func ensureConnected(time: WallTime) -> Event? {
        if isConnected { return nil }
        let now = monotonicNanos()
        guard now >= nextAttempt else { return nil }
        do throws(ModbusError) {
            if client == nil { client = try ModbusClient(transport: bus.transport, timeoutMs: bus.timeoutMs) }
            try client!.connect()
            backoff.reset()
            lastOpenError = nil
            if reportedDown {
                reportedDown = false
                reconnects += 1
                return Event(timestamp: time, kind: .busRecovered, bus: bus.id)
            }
            return nil
        } catch {
            client = nil
            nextAttempt = now + backoff.next()
            lastOpenError = error.description
            if !reportedDown {
                reportedDown = true
                return Event(timestamp: time, kind: .busFailed, bus: bus.id, detail: error.description)
            }
            return nil
        }
    }

    struct Outcome {
        var result: Result<BlockResult, ModbusError>
        var attempts: Int
    }

    /// One read block, retried `bus.retries` times after a timeout or a garbled answer.
    /// `time` is the poll's: frames carry it rather than asking the clock again on every request.
    mutating func read(_ block: ReadBlock, unit: Int, device: String, time: WallTime) -> Outcome {
        var attempts = 0
        while true {
            attempts += 1
            waitForGap()
            let started = monotonicNanos()
            let result: Result<BlockResult, ModbusError>
            do throws(ModbusError) {
                result = block.table.isBitTable
                    ? .success(.bits(try client!.readBits(unit: unit, table: block.table, address: block.start, count: block.count)))
                    : .success(.registers(try client!.readRegisters(unit: unit, table: block.table, address: block.start, count: block.count)))
            } catch {
                result = .failure(error)
            }
            lastFrameEnd = monotonicNanos()
            recordFrame(ModbusProbe(operation: .read, unit: unit, table: block.table, address: block.start, count: block.count),
                        result: result, started: started, time: time, origin: device)
            guard case .failure(let error) = result else { return Outcome(result: result, attempts: attempts) }
            handleFailure(error)
            if error.needsReconnect || error.deviceAnswered || attempts > bus.retries { return Outcome(result: result, attempts: attempts) }
        }
    }

    /// A technician's request, between polls: once, no retries.
    mutating func probe(_ probe: ModbusProbe) -> ProbeAnswer {
        guard let client, client.isConnected else {
            return ProbeAnswer(error: "bus \(bus.id) down: \(lastOpenError ?? "not connected")", milliseconds: 0, request: probe.requestHex,
                               response: nil, path: "bus \(bus.id) (through the agent)")
        }
        waitForGap()
        let o = ProbeRunner.execute(probe, on: client, busTimeoutMs: bus.timeoutMs)
        lastFrameEnd = monotonicNanos()
        frames.record(FrameLog.Entry(probe: probe, words: o.words, bits: o.bits, failure: o.failure, milliseconds: o.milliseconds,
                                     time: SystemClock.shared.now(), origin: "diag"))
        if let failure = o.failure, !failure.deviceAnswered { handleFailure(failure) }
        return ProbeRunner.answer(probe, words: o.words, bits: o.bits, failure: o.failure, ms: o.milliseconds, path: "bus \(bus.id) (through the agent)")
    }

    private func recordFrame(_ probe: ModbusProbe, result: Result<BlockResult, ModbusError>, started: Int64, time: WallTime, origin: String) {
        var words: [UInt16]?, bits: [Bool]?, failure: ModbusError?
        switch result {
        case .success(.registers(let w)): words = w
        case .success(.bits(let b)): bits = b
        case .success(.failed): break
        case .failure(let e): failure = e
        }
        frames.record(FrameLog.Entry(probe: probe, words: words, bits: bits, failure: failure,
                                     milliseconds: Double(lastFrameEnd - started) / 1e6, time: time, origin: origin))
    }

    private mutating func handleFailure(_ error: ModbusError) {
        if error.needsFlush { client?.flush() }
        if error.needsReconnect {
            client?.close()
            client = nil
            reportedDown = true
            nextAttempt = monotonicNanos() + backoff.next()
            lastOpenError = error.description
        }
    }

    /// libmodbus does not wait the inter-frame silence itself: keep it here.
    private func waitForGap() {
        let gapNanos = Int64(bus.gapMs * 1_000_000)
        guard gapNanos > 0 else { return }
        let readyAt = lastFrameEnd + gapNanos
        var now = monotonicNanos()
        while now < readyAt {
            var ts = timespec(tv_sec: Int((readyAt - now) / 1_000_000_000), tv_nsec: Int((readyAt - now) % 1_000_000_000))
            nanosleep(&ts, nil)
            now = monotonicNanos()
        }
    }

    mutating func close() {
        client?.close()
        client = nil
    }
}

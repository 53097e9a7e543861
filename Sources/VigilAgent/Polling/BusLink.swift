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

    init(bus: BusSpec) { self.bus = bus }

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
    mutating func read(_ block: ReadBlock, unit: Int) -> Outcome {
        var attempts = 0
        while true {
            attempts += 1
            waitForGap()
            let result: Result<BlockResult, ModbusError>
            do throws(ModbusError) {
                result = block.table.isBitTable
                    ? .success(.bits(try client!.readBits(unit: unit, table: block.table, address: block.start, count: block.count)))
                    : .success(.registers(try client!.readRegisters(unit: unit, table: block.table, address: block.start, count: block.count)))
            } catch {
                result = .failure(error)
            }
            lastFrameEnd = monotonicNanos()
            guard case .failure(let error) = result else { return Outcome(result: result, attempts: attempts) }
            if error.needsFlush { client?.flush() }
            if error.needsReconnect {
                client?.close()
                client = nil
                reportedDown = true
                nextAttempt = monotonicNanos() + backoff.next()
                lastOpenError = error.description
                return Outcome(result: result, attempts: attempts)
            }
            if error.deviceAnswered || attempts > bus.retries { return Outcome(result: result, attempts: attempts) }
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

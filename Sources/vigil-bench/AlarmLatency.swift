import Glibc
import Synchronization
import VigilAgent
import VigilCore
import VigilLab
import VigilThreads
import VigilModbus
import VigilUplink

/// Issue 4's targets: from the poll that sees a crossing to the alarm event
/// fsynced in the journal, and from there to the upstream's acknowledgement.
/// A Modbus server of our own flips a gas value between 10 and 60 %LEL every
/// `flipMs`; the agent polls it every 50 ms through the same parts as `vigil
/// run` (bus worker → record pipeline → journal sink with the alarm engine →
/// forwarder → HTTP uplink). Prints the p50/p99/max of both, in ms.
func alarmLatency(port: Int, url: String, duration: Double) {
    let flipMs: Int64 = 300
    let server: ModbusServer
    do { server = try ModbusServer(transport: .tcp(host: "127.0.0.1", port: port)) } catch { fail("cannot serve on \(port): \(error)") }
    let serving = StoppableThread()
    serving.start(name: "bench server") {
        let map = ModbusRegisterMap(coils: 0, discrete: 0, holding: 8, input: 0)
        func setGas(_ v: Double) { map.setRegisters(.holding, at: 0, RegisterCodec.encode(.float(v), type: .float32, order: .abcd)) }
        setGas(10)
        var high = false, lastFlip = monotonicNanos()
        server.run(tickMs: 5, shouldStop: { serving.isStopping }, tick: {
            guard monotonicNanos() - lastFlip >= flipMs * 1_000_000 else { return }
            high.toggle()
            setGas(high ? 60 : 10)
            lastFlip = monotonicNanos()
        }, reply: { _ in .answer(map) })
    }

    var alarms = AlarmSetpoints()
    alarms.high = 25; alarms.highHigh = 50; alarms.deadband = 2
    let point = PointSpec(id: "gas", table: .holding, address: 0, type: .float32, unit: "%LEL", alarms: alarms)
    let dir = "/tmp/vigil-bench-alarm-\(getpid())"
    var config = VigilConfig(file: "bench", gateway: GatewaySpec(id: "bench-alarm", stateDir: dir),
                             buses: [BusSpec(id: "b", transport: .tcp(host: "127.0.0.1", port: port), timeoutMs: 500)],
                             devices: [DeviceSpec(id: "gas-1", bus: "b", unit: 1, points: [point], intervalMs: 50)])
    config.uplink = .http(HTTPUplinkSpec(url: url))
    let log = Logger(threshold: .error)
    let journal: Journal
    do { journal = try Journal(directory: config.journalDirectory) } catch { fail("journal: \(error)") }
    let uplink: HTTPUplink
    do { uplink = try HTTPUplink(spec: HTTPUplinkSpec(url: url), gateway: "bench-alarm") } catch { fail("uplink: \(error)") }
    let forwarder = Forwarder(journal: journal, uplink: uplink, gateway: "bench-alarm", batching: UplinkBatching(flushMs: 1000),
                              deadLetterDirectory: "\(dir)/dead-letter", log: log)
    let committer = JournalCommitter(journal: journal, log: log, onDurable: { forwarder.wake() })
    let journalSink = JournalSink(journal: journal, committer: committer, log: log, alarmRules: AlarmRule.rules(for: config),
                                  onDurable: { forwarder.wake() })
    let probe = LatencyProbe(inner: journalSink)
    let agent = Agent(config: config, sink: probe, log: log)
    committer.start()
    forwarder.start()
    agent.start()

    // The forwarder's acknowledgement, seen from outside: the events lane's cursor passes the event's seq.
    let start = monotonicNanos()
    var ackMs: [Double] = []
    var waiting: [(seq: UInt64, durableAt: Int64)] = []
    while seconds(start) < duration || (!waiting.isEmpty && seconds(start) < duration + 5) {
        if seconds(start) < duration { waiting += probe.takeDurable() }
        let acked = journal.cursor.acked[.events] ?? 0
        let now = monotonicNanos()
        ackMs += waiting.filter { $0.seq <= acked }.map { Double(now - $0.durableAt) / 1e6 }
        waiting.removeAll { $0.seq <= acked }
        usleep(500)
    }
    agent.stop()
    committer.stop()
    forwarder.stop()
    serving.stop()
    try? journal.close()
    _ = system("rm -rf '\(dir)'")
    let fsync = probe.fsyncMs.sorted(), ack = ackMs.sorted()
    guard !fsync.isEmpty, !ack.isEmpty else { fail("no alarms seen (fsync \(fsync.count), acks \(ack.count))") }
    print("alarm-latency \(fsync.count) \(percentile(fsync, 0.5)) \(percentile(fsync, 0.99)) \(fsync.last!) \(ack.count) \(percentile(ack, 0.5)) \(percentile(ack, 0.99)) \(ack.last!) \(waiting.count)")
}

func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)] }

/// Wraps the journal sink: for every round in which alarm events were
/// written, how long since the poll that produced the crossing reading began,
/// and the seq of the last event, to watch for its acknowledgement.
final class LatencyProbe: RecordSink {
    let inner: JournalSink
    private let state = Mutex<(fsyncMs: [Double], durable: [(seq: UInt64, durableAt: Int64)])>(([], []))

    init(inner: JournalSink) { self.inner = inner }

    var fsyncMs: [Double] { state.withLock { $0.fsyncMs } }
    func takeDurable() -> [(seq: UInt64, durableAt: Int64)] { state.withLock { s in defer { s.durable = [] }; return s.durable } }

    func accept(_ records: [Record]) { accept(batches: [records]) }

    func accept(batches: [[Record]]) {
        let before = inner.activeAlarms
        inner.accept(batches: batches)
        let after = inner.activeAlarms
        guard before != after else { return }
        let now = SystemClock.shared.now().milliseconds, mono = monotonicNanos()
        // The crossing reading: the first gas reading in this round on the new side of 25 %LEL.
        let rising = after.count > before.count
        let crossing = batches.joined().lazy.compactMap { record -> Reading? in
            guard case .reading(let r) = record, case .float(let v)? = r.value else { return nil }
            return (v >= 25) == rising ? r : nil
        }.first
        guard let crossing else { return }
        let lastSeq = inner.journal.stats.lastSeq
        state.withLock { s in
            s.fsyncMs.append(Double(now - crossing.timestamp.milliseconds))
            s.durable.append((lastSeq, mono))
        }
    }
}

import Dispatch
import Glibc
import Synchronization
import VigilCore
import VigilThreads
import VigilModbus

/// Counters a bus worker keeps, for status and benchmarks.
public struct BusCounters: Sendable, Equatable {
    public var polls = 0
    public var requests = 0
    public var failedRequests = 0
    public var overruns = 0
    public var reconnects = 0
    public var connected = false
    /// The worker has tried to open its port (it may have failed: then the bus is reported failed).
    public var triedToOpen = false
    public var lastError: String?
    /// Each device's health, for `vigil status`.
    public var devices: [String: DeviceStatus] = [:]
    /// Each device's state: unknown, online or offline.
    public var deviceStates: [String: DeviceHealth.State] { devices.mapValues(\.state) }
}

/// One device as its bus worker sees it.
public struct DeviceStatus: Sendable, Equatable {
    public var state: DeviceHealth.State = .unknown
    public var lastGoodPoll: WallTime?
    public var polls = 0
    /// Polls in which at least one request failed.
    public var failedPolls = 0
    public var lastError: String?
    /// How long the last poll's requests took, in milliseconds.
    public var responseMs: Double?
    /// Poll slots missed because the bus could not keep up with interval_ms.
    public var skippedSlots = 0
}

/// Owns one bus (a serial line or a TCP endpoint) on a thread of its own:
/// polls its devices on their schedules, one request at a time with the bus's
/// gap between frames, and hands the readings to the sink.
public final class BusWorker: ServicePart {
    public let bus: BusSpec
    private let devices: [DeviceSpec]
    private let sink: any RecordSink
    private let clock: SystemClock
    private let wake = WakeSignal()
    private let countersState = Mutex(BusCounters())
    private let thread = StoppableThread()
    private let checkIn: CheckIn
    private let log: Logger?
    private let reconnectRequested = Atomic<Bool>(false)
    private let repeatedErrors: RepeatLimiter
    private let probes = Mutex<[PendingProbe]>([])
    /// The last requests and answers on this bus (`vigil diag frames`).
    public let frames: FrameLog
    /// How often an offline device is still asked (or its own interval, if longer).
    static let demotedIntervalNanos: Int64 = 10_000_000_000

    public init(bus: BusSpec, devices: [DeviceSpec], sink: any RecordSink, clock: SystemClock = .shared,
                supervisor: SupervisorService? = nil, log: Logger? = nil) {
        self.bus = bus
        self.devices = devices
        self.sink = sink
        self.clock = clock
        self.checkIn = CheckIn(supervisor, part: .bus(bus.id))
        self.log = log
        self.repeatedErrors = RepeatLimiter(intervalSeconds: 60)
        self.frames = FrameLog(trace: log.flatMap { $0.isDebugEnabled ? $0 : nil }, bus: bus.id)
    }

    /// The devices polled, for comparing configs on reload.
    public var deviceSpecs: [DeviceSpec] { devices }

    /// How long one round of work may take (decided in Core: `BusSpec.workerDeadlineSeconds`).
    var deadlineSeconds: Double { bus.workerDeadlineSeconds(polling: devices) }

    /// The supervisor found this worker stuck: close and reopen its port once
    /// its current call returns. (A thread stuck inside the kernel cannot be
    /// replaced safely: rule 1, one owner per line. If it never returns, the
    /// watchdog stops being fed and the agent is restarted whole.)
    public func requestReconnect() { reconnectRequested.store(true, ordering: .releasing) }

    public var counters: BusCounters { countersState.withLock { $0 } }

    public var partID: PartID { .bus(bus.id) }
    /// Stopping waits for the request in flight.
    public var stopDeadlineSeconds: Double { deadlineSeconds }

    public func start() {
        thread.start(name: "bus-\(bus.id)") { [self] in run() }
    }

    /// Asks the worker to stop after its current request and waits for it.
    public func stop() { thread.stop(wake: wake.wake) }

    private var stopping: Bool { thread.isStopping }

    private func run() {
        var link = BusLink(bus: bus, frames: frames)
        let start = monotonicNanos()
        var polled = devices.map { PolledDevice(spec: $0, bus: bus, firstDue: start) }
        checkIn.begin(deadlineSeconds: deadlineSeconds, restart: { [self] in requestReconnect() })
        defer { checkIn.end() }
        while !stopping && !polled.isEmpty {
            checkIn()
            if reconnectRequested.exchange(false, ordering: .acquiring) {
                log?.warning("bus \(bus.id): closing and reopening \(bus.transport.endpointName)")
                link.close()
            }
            runPendingProbes(&link)
            let next = polled.indices.min { polled[$0].schedule.nextDue < polled[$1].schedule.nextDue }!
            let due = polled[next].schedule.nextDue
            let now = monotonicNanos()
            if due > now {
                // At most a second at a time, to check in.
                wake.sleep(untilMonotonic: min(due, now + 1_000_000_000), now: now)
                continue // re-check stop and which device is due
            }
            poll(&polled[next], link: &link)
            let before = polled[next].schedule.overruns
            let finished = monotonicNanos()
            polled[next].schedule.advance(now: finished)
            if polled[next].health.state == .offline {
                // Demoted: a silent device costs its bus-mates a timeout per poll, so it is asked less often until it answers.
                polled[next].schedule.postpone(until: finished + Self.demotedIntervalNanos)
            }
            let skipped = polled[next].schedule.overruns - before
            let id = polled[next].spec.id
            countersState.withLock { c in
                c.polls += 1
                c.overruns += skipped
                c.devices[id, default: DeviceStatus()].skippedSlots += skipped
                c.connected = link.isConnected
                c.triedToOpen = true
                c.reconnects = link.reconnects
                // A port that will not open says why on the bus row.
                if let why = link.lastOpenError, !link.isConnected { c.lastError = why }
            }
        }
        link.close()
    }

    /// Polls one device: every read block, then one reading per point.
    func poll(_ device: inout PolledDevice, link: inout BusLink) {
        let time = clock.now()
        let pollStarted = monotonicNanos()
        var results: [BlockResult] = []
        var answered = false
        var silenceReason: String?
        var records: [Record] = []

        if let event = link.ensureConnected(time: time) { records.append(.event(event)) }
        for block in device.decoder.blocks {
            guard link.isConnected else {
                let reason = "bus \(bus.id) down: \(link.lastOpenError ?? "not connected")"
                results.append(.failed(reason))
                silenceReason = reason
                continue
            }
            let outcome = link.read(block, unit: device.spec.unit, device: device.spec.id, time: time)
            countersState.withLock { c in
                c.requests += outcome.attempts
                if case .failure = outcome.result { c.failedRequests += 1 }
            }
            switch outcome.result {
            case .success(let result):
                results.append(result)
                answered = true
            case .failure(let error):
                results.append(.failed(error.description))
                if error.deviceAnswered { answered = true } else { silenceReason = error.description }
                countersState.withLock { $0.lastError = "\(device.spec.id): \(error)" }
            }
        }

        let failed = results.contains { if case .failed = $0 { true } else { false } }
        let pollMs = Double(monotonicNanos() - pollStarted) / 1e6
        let firstFailure = results.lazy.compactMap { if case .failed(let why) = $0 { why } else { nil } }.first
        let transition = answered
            ? device.health.recordAnswer()
            : device.health.recordSilence(reason: silenceReason ?? "no answer")
        switch transition {
        case .cameOnline?:
            records.append(.event(Event(timestamp: time, kind: .deviceOnline, device: device.spec.id, bus: bus.id)))
            log?.info("device \(device.spec.id) (bus \(bus.id), unit \(device.spec.unit)) is online")
        case .wentOffline(let reason)?:
            records.append(.event(Event(timestamp: time, kind: .deviceOffline, device: device.spec.id, bus: bus.id, detail: reason)))
            log?.warning("device \(device.spec.id) (bus \(bus.id), unit \(device.spec.unit)) is offline: \(reason); asked every \(max(10, device.spec.intervalMs / 1000)) s until it answers")
        case nil:
            break
        }
        let state = device.health.state, id = device.spec.id
        countersState.withLock { c in
            var d = c.devices[id] ?? DeviceStatus()
            d.state = state
            d.polls += 1
            d.responseMs = pollMs
            if failed { d.failedPolls += 1; d.lastError = firstFailure } else { d.lastGoodPoll = time }
            c.devices[id] = d
        }
        if let log, let reason = silenceReason ?? firstFailure {
            // A dead device fails every poll: one line a minute, with a count.
            if let line = repeatedErrors.admit(key: device.spec.id, message: "device \(device.spec.id): \(reason)") { log.warning(line) }
        }
        for record in records {
            if case .event(let e) = record, e.kind == .busFailed || e.kind == .busRecovered {
                log?.log(e.kind == .busFailed ? .error : .info, "bus \(bus.id): \(e.kind == .busFailed ? "failed: \(e.detail ?? "")" : "recovered")")
            }
        }
        // Decoding is left to the sink's side (the record pipeline's thread).
        let polled = device
        let events = records
        let blockResults = results
        sink.submit { events + polled.readings.readings(polled.decoder.decode(blockResults), at: time) }
    }
}

/// A technician's request waiting for the worker's next gap between polls.
final class PendingProbe: Sendable {
    let probe: ModbusProbe
    let done = DispatchSemaphore(value: 0)
    let answer = Mutex<ProbeAnswer?>(nil)
    init(_ probe: ModbusProbe) { self.probe = probe }
}

extension BusWorker {
    /// Runs `probe` on this bus between two polls (the worker owns the line:
    /// no second open, no collision). Nil when the worker did not get to it
    /// within `waitSeconds` (it is stuck, or stopped).
    public func probe(_ probe: ModbusProbe, waitSeconds: Double) -> ProbeAnswer? {
        let pending = PendingProbe(probe)
        probes.withLock { $0.append(pending) }
        wake.wake()
        if pending.done.wait(timeout: .now() + .milliseconds(Int(waitSeconds * 1000))) == .timedOut {
            probes.withLock { $0.removeAll { $0 === pending } }
            return pending.answer.withLock { $0 }
        }
        return pending.answer.withLock { $0 }
    }

    fileprivate func runPendingProbes(_ link: inout BusLink) {
        while let pending = probes.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
            if let event = link.ensureConnected(time: clock.now()) { sink.accept([.event(event)]) }
            let answer = link.probe(pending.probe)
            pending.answer.withLock { $0 = answer }
            pending.done.signal()
        }
    }
}

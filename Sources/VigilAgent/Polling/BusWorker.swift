import Glibc
import Synchronization
import VigilCore
import VigilModbus

/// Counters a bus worker keeps, for status and benchmarks.
public struct BusCounters: Sendable, Equatable {
    public var polls = 0
    public var requests = 0
    public var failedRequests = 0
    public var overruns = 0
    public var reconnects = 0
    public var connected = false
    public var lastError: String?
    /// Each device's state: unknown, online or offline.
    public var deviceStates: [String: DeviceHealth.State] = [:]
}

/// Owns one bus (a serial line or a TCP endpoint) on a thread of its own:
/// polls its devices on their schedules, one request at a time with the bus's
/// gap between frames, and hands the readings to the sink.
public final class BusWorker: Sendable {
    public let bus: BusSpec
    private let devices: [DeviceSpec]
    private let sink: any RecordSink
    private let clock: SystemClock
    private let stopRequested = Atomic<Bool>(false)
    private let wake = WakeSignal()
    private let countersState = Mutex(BusCounters())
    private let thread = Mutex<DedicatedThread?>(nil)

    public init(bus: BusSpec, devices: [DeviceSpec], sink: any RecordSink, clock: SystemClock = .shared) {
        self.bus = bus
        self.devices = devices
        self.sink = sink
        self.clock = clock
    }

    public var counters: BusCounters { countersState.withLock { $0 } }

    public func start() {
        let t = DedicatedThread(name: "bus-\(bus.id)") { [self] in run() }
        thread.withLock { $0 = t }
        t.start()
    }

    /// Asks the worker to stop after its current request and waits for it.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        wake.wake()
        let t = thread.withLock { t in defer { t = nil }; return t }
        t?.join()
    }

    private var stopping: Bool { stopRequested.load(ordering: .acquiring) }

    private func run() {
        var link = BusLink(bus: bus)
        let start = monotonicNanos()
        var polled = devices.map { PolledDevice(spec: $0, bus: bus, firstDue: start) }
        while !stopping && !polled.isEmpty {
            let next = polled.indices.min { polled[$0].schedule.nextDue < polled[$1].schedule.nextDue }!
            let due = polled[next].schedule.nextDue
            let now = monotonicNanos()
            if due > now {
                wake.sleep(untilMonotonic: due, now: now)
                continue // re-check stop and which device is due
            }
            poll(&polled[next], link: &link)
            let before = polled[next].schedule.overruns
            polled[next].schedule.advance(now: monotonicNanos())
            let skipped = polled[next].schedule.overruns - before
            let deviceID = polled[next].spec.id, deviceState = polled[next].health.state
            countersState.withLock { c in
                c.polls += 1
                c.overruns += skipped
                c.deviceStates[deviceID] = deviceState
                c.connected = link.isConnected
                c.reconnects = link.reconnects
            }
        }
        link.close()
    }

    /// Polls one device: every read block, then one reading per point.
    func poll(_ device: inout PolledDevice, link: inout BusLink) {
        let time = clock.now()
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
            let outcome = link.read(block, unit: device.spec.unit)
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

        let transition = answered
            ? device.health.recordAnswer()
            : device.health.recordSilence(reason: silenceReason ?? "no answer")
        switch transition {
        case .cameOnline?:
            records.append(.event(Event(timestamp: time, kind: .deviceOnline, device: device.spec.id, bus: bus.id)))
        case .wentOffline(let reason)?:
            records.append(.event(Event(timestamp: time, kind: .deviceOffline, device: device.spec.id, bus: bus.id, detail: reason)))
        case nil:
            break
        }
        // Decoding is left to the sink's side (the record pipeline's thread).
        let polled = device
        let events = records
        let blockResults = results
        sink.submit { events + polled.readings(polled.decoder.decode(blockResults), at: time) }
    }
}

import Glibc
import Synchronization
import VigilCore
import VigilThreads

/// Counters the forwarder keeps, for status, heartbeats and tests.
public struct ForwarderCounters: Sendable, Equatable {
    public var batchesDelivered = 0
    public var recordsDelivered = 0
    public var failures = 0
    public var deadLetters = 0
    public var lastError: String?
    public var backoffMs = 0
    public var lastSuccess: WallTime?
    /// Failed attempts since the last delivery, and since when (monotonic ns).
    public var failuresInARow = 0
    public var failingSince: Int64?
    /// The last failure was the upstream refusing our credentials.
    public var authenticationRefused = false
}

/// Schedules the uplink: takes each lane's next batch from its `LaneBatcher`
/// (which forms batches from the journal on disk), sends it, alarms and events
/// first, and acknowledges what the upstream accepted. Runs on a thread of
/// its own (the uplink blocks in libcurl). Retries with exponential backoff and
/// full jitter, capped at 5 minutes, honouring Retry-After; a batch the
/// upstream refuses for good goes to the dead-letter directory.
public final class Forwarder: Sendable {
    public let journal: Journal
    public let uplink: any Uplink
    private let gateway: String
    /// Batch size and pacing: the config's `uplink` keys, with their defaults there.
    private let batching: UplinkBatching
    private let deadLetterDirectory: String
    private let log: Logger
    private let statusProvider: @Sendable () -> [(id: String, state: String)]
    private let alarmsProvider: @Sendable () -> [StatusAlarm]
    private let wakeSignal: WakeSignal
    private let draining = Atomic<Bool>(false)
    private let countersState = Mutex(ForwarderCounters())
    private let thread = StoppableThread()
    private let startedAt = monotonicNanos()
    private let checkIn: CheckIn
    /// Each lane's first unacknowledged record's time, as the forwarder last
    /// read it: the head of the backlog (a segment's times cannot say where
    /// inside it the acknowledgement stands).
    private let oldestPendingState = Mutex<[JournalLane: Int64]>([:])

    /// `wake`: what the journal's committer signals when something new is durable
    /// (made before the parts that signal it, which are made before the forwarder).
    public init(journal: Journal, uplink: any Uplink, gateway: String, batching: UplinkBatching = UplinkBatching(heartbeatSeconds: nil),
                deadLetterDirectory: String, log: Logger, wake: WakeSignal = WakeSignal(), supervisor: SupervisorService? = nil,
                deviceStates: @escaping @Sendable () -> [(id: String, state: String)] = { [] },
                activeAlarms: @escaping @Sendable () -> [StatusAlarm] = { [] }) {
        self.checkIn = CheckIn(supervisor, part: .forwarder)
        self.journal = journal
        self.uplink = uplink
        self.gateway = gateway
        self.batching = batching
        self.wakeSignal = wake
        self.deadLetterDirectory = deadLetterDirectory
        self.log = log
        self.statusProvider = deviceStates
        self.alarmsProvider = activeAlarms
    }

    public var counters: ForwarderCounters { countersState.withLock { $0 } }

    /// Dead letters waiting in their directory: survives restarts, unlike the counter of this run's.
    public var deadLettersOnDisk: Int { directoryEntries(deadLetterDirectory).filter { $0.hasSuffix(".json") }.count }

    /// False while the uplink fails and batches wait for a retry.
    public var isHealthy: Bool { counters.backoffMs == 0 }

    /// The time of the oldest record not yet acknowledged upstream, nil when nothing waits.
    public var oldestPendingMs: Int64? { oldestPendingState.withLock { $0.values.min() } }

    /// Something new is durable: look now rather than at the next tick.
    public func wake() { wakeSignal.wake() }

    /// Send what is pending now, without waiting for flush_ms (an orderly stop).
    public func drainNow() {
        draining.store(true, ordering: .releasing)
        wakeSignal.wake()
    }

    public func start() {
        thread.start(name: "forwarder") { [self] in run() }
    }

    /// Stops after the batch in flight (bounded by the uplink's timeout).
    public func stop() { thread.stop(wake: wakeSignal.wake) }

    private var stopping: Bool { thread.isStopping }

    public func status() -> GatewayStatus {
        let stats = journal.stats
        return GatewayStatus(uptimeSeconds: (monotonicNanos() - startedAt) / 1_000_000_000, pending: stats.pending,
                             oldestPendingMs: oldestPendingMs, dropped: stats.dropped, corruptRecords: stats.corruptRecords,
                             deadLetters: deadLettersOnDisk, devices: statusProvider(), alarms: alarmsProvider(), journalError: journal.writeError)
    }

    private func run() {
        let batchers = Dictionary(uniqueKeysWithValues: JournalLane.allCases.map {
            ($0, LaneBatcher(journal: journal, lane: $0, gateway: gateway, maxRecords: batching.batchMaxRecords, maxBytes: batching.batchMaxBytes))
        })
        var backoff = RetryBackoff()
        // Per lane: a batch size the upstream answered 413 to (halved each time,
        // kept for this run), and, for events the upstream refuses, when to try
        // again — the other lane flows meanwhile.
        var sizeCap: [JournalLane: Int] = [:]
        var heldUntil: [JournalLane: Int64] = [:]
        var holdBackoff: [JournalLane: RetryBackoff] = [:]
        var statusSchedule = StatusSchedule(everySeconds: batching.heartbeatSeconds)
        var lastSend = monotonicNanos()
        var lastTelemetrySend: Int64 = 0
        // A heartbeat for changed alarms that failed is tried again after a backoff, not every tick.
        var alarmHeartbeatBackoff = RetryBackoff()
        var alarmHeartbeatNotBefore: Int64 = 0
        // One request (bounded by the uplink's timeout), a journal read, a second of sleep.
        checkIn.begin(deadlineSeconds: Double(batching.timeoutMs) / 1000 + 15)
        defer { checkIn.end() }
        while !stopping {
            checkIn()
            var sent = false
            var failed: Int64?
            // Events first, always; telemetry when a batch is full or flush_ms passed.
            for lane in JournalLane.allCases where !stopping {
                let now = monotonicNanos()
                if let until = heldUntil[lane], now < until { continue }
                let telemetryDue = now - lastTelemetrySend >= Int64(batching.flushMs) * 1_000_000 || draining.load(ordering: .acquiring)
                guard let batch = nextBatch(batchers[lane]!, requireFull: lane == .telemetry && !telemetryDue,
                                            sizeCap: sizeCap[lane]) else { continue }
                let status = status()
                let carried = uplink.batchesCarryStatus && statusSchedule.isDue(status, nowNanos: monotonicNanos())
                let group = self.group(startingWith: batch, batchers[lane]!, sizeCap: sizeCap[lane])
                let named = group.count > 1 ? "\(batch.id) and the \(group.count - 1) after it" : batch.id
                // An uplink that never puts it in a batch still keeps the latest (MQTT: what a reconnect announces).
                switch deliver(group, batchers[lane]!, status: carried || !uplink.batchesCarryStatus ? status : nil) {
                case .delivered:
                    backoff.reset()
                    heldUntil[lane] = nil
                    holdBackoff[lane] = nil
                    sent = true
                    // A batch that carries the status stands in for a heartbeat.
                    if carried {
                        lastSend = monotonicNanos()
                        statusSchedule.sent(status, nowNanos: lastSend)
                    }
                    if lane == .telemetry { lastTelemetrySend = monotonicNanos() }
                    logRecovery()
                case .retry(let afterMs, let reason):
                    let delay = backoff.next(serverAskedMs: afterMs)
                    countersState.withLock { c in
                        c.failures += 1; c.failuresInARow += 1; c.lastError = reason; c.backoffMs = Int(delay / 1_000_000)
                        if c.failingSince == nil { c.failingSince = monotonicNanos() }
                    }
                    log.warning("uplink \(uplink.name): \(reason); retrying batch \(named) in \(delay / 1_000_000) ms")
                    failed = delay
                case .split(let reason):
                    let cap = max(1, batch.records.count / 2)
                    sizeCap[lane] = cap
                    log.warning("uplink \(uplink.name): batch \(batch.id) of \(batch.records.count) records is too large for the upstream (\(reason)); sending the \(lane.rawValue) lane in batches of at most \(cap) records from now on")
                    sent = true // again at once, smaller
                case .held(let reason):
                    let delay = holdBackoff[lane, default: RetryBackoff()].next(serverAskedMs: nil)
                    heldUntil[lane] = monotonicNanos() + delay
                    countersState.withLock { c in c.failures += 1; c.lastError = reason }
                    log.warning("uplink \(uplink.name): \(reason); trying the \(lane.rawValue) lane again in \(delay / 1_000_000) ms, the other lanes go on")
                    continue
                }
                break
            }
            if let delay = failed {
                // The whole backoff, as logged: new records do not cut it short.
                sleep(nanos: delay, wakeable: false)
                continue
            }
            let heartbeatDue = batching.heartbeatSeconds.map { monotonicNanos() - lastSend >= Int64($0) * 1_000_000_000 } ?? false
            if sent && !heartbeatDue { continue } // more may be waiting: alarms first again
            if batching.heartbeatSeconds != nil {
                let forAlarms = !heartbeatDue && monotonicNanos() >= alarmHeartbeatNotBefore && statusSchedule.alarmsChanged(alarmsProvider())
                if heartbeatDue || forAlarms {
                    let status = status()
                    lastSend = monotonicNanos()
                    switch uplink.sendHeartbeat(status) {
                    case .delivered?:
                        statusSchedule.sent(status, nowNanos: lastSend)
                        alarmHeartbeatBackoff.reset()
                    case .retry(_, let reason)?:
                        log.warning("uplink \(uplink.name): heartbeat failed: \(reason)")
                        if forAlarms { alarmHeartbeatNotBefore = monotonicNanos() + alarmHeartbeatBackoff.next(serverAskedMs: nil) }
                    default: break
                    }
                }
            }
            let tick = min(Int64(batching.flushMs), Int64(batching.heartbeatSeconds ?? 3600) * 1000) * 1_000_000
            sleep(nanos: tick)
        }
    }

    /// Sleeps until `nanos` pass (or, when wakeable, until woken), checking in
    /// every second; a stop always ends it.
    private func sleep(nanos: Int64, wakeable: Bool = true) {
        let until = monotonicNanos() + nanos
        while !stopping {
            let now = monotonicNanos()
            if now >= until { return }
            if wakeSignal.sleep(untilMonotonic: min(until, now + 1_000_000_000), now: now), wakeable { return }
            checkIn()
        }
    }

    /// One line when a failing uplink delivers again.
    private func logRecovery() {
        let (failures, since) = countersState.withLock { c in
            defer { c.failuresInARow = 0; c.failingSince = nil }
            return (c.failuresInARow, c.failingSince)
        }
        guard failures > 0, let since else { return }
        let pending = journal.stats.pending.values.reduce(0, +)
        log.info("uplink \(uplink.name): delivering again after \(failures) failed attempts over \(String(format1: Double(monotonicNanos() - since) / 1e9)) s; \(pending) records still to send")
    }

    /// The next batch of a lane (see `LaneBatcher`); nil on a read error, logged.
    private func nextBatch(_ batcher: LaneBatcher, requireFull: Bool, sizeCap: Int?) -> UplinkBatch? {
        defer { oldestPendingState.withLock { $0[batcher.lane] = batcher.oldestPendingMs } }
        do { return try batcher.next(requireFull: requireFull, sizeCap: sizeCap) } catch {
            log.error("journal: cannot read the \(batcher.lane.rawValue) lane: \(error)")
            return nil
        }
    }

    /// `batch` and, when it is full and the uplink takes several at once, the full
    /// batches after it (LaneBatcher.following): a backlog goes a window at a time.
    private func group(startingWith batch: UplinkBatch, _ batcher: LaneBatcher, sizeCap: Int?) -> [UplinkBatch] {
        var group = [batch]
        guard uplink.batchesInFlight > 1, sizeCap == nil, batch.records.count == batcher.fullSize else { return group }
        // A read error ends the group here; the next round's `next` reports it.
        while group.count < uplink.batchesInFlight, let following = try? batcher.following(group[group.count - 1]) {
            group.append(following)
        }
        return group
    }

    private enum Delivery {
        case delivered, retry(afterMs: Int?, reason: String)
        /// Too large for the upstream: send it again in smaller batches.
        case split(reason: String)
        /// This lane waits; the others go on.
        case held(reason: String)
    }

    /// Sends `group` (one batch, or a window of full ones) and acts on the answer. What one
    /// batch of a group needs (smaller batches, a dead letter, a held lane) is learnt by
    /// sending the group's first batch alone: a refusal never sets aside the others.
    private func deliver(_ group: [UplinkBatch], _ batcher: LaneBatcher, status: GatewayStatus?) -> Delivery {
        let batch = group[0], single = group.count == 1
        let outcome = uplink.send(group, status: status)
        switch outcome {
        case .delivered:
            acknowledge(group[group.count - 1], batcher) // in order: through the last
            countersState.withLock { $0.batchesDelivered += group.count; $0.recordsDelivered += group.reduce(0) { $0 + $1.records.count }
                $0.backoffMs = 0; $0.lastSuccess = SystemClock.shared.now(); $0.authenticationRefused = false }
            return .delivered
        case .retry(let afterMs, let reason):
            countersState.withLock { $0.authenticationRefused = false }
            return .retry(afterMs: afterMs, reason: reason)
        case .unauthorized(let reason):
            countersState.withLock { $0.authenticationRefused = true }
            return .retry(afterMs: nil, reason: reason)
        case .laneRefused(let reason) where single:
            countersState.withLock { $0.authenticationRefused = false }
            return .held(reason: "\(batch.lane.rawValue) batch \(batch.id) refused (\(reason)); kept in the journal")
        case .tooLarge(let reason) where single && batch.records.count > 1:
            return .split(reason: reason)
        case .rejected(let reason) where single && batch.lane == .events, .tooLarge(let reason) where single && batch.lane == .events:
            // Alarms are never set aside: the lane waits, loudly, until the upstream takes them.
            return .held(reason: "events batch \(batch.id) refused (\(reason)); kept in the journal")
        case .rejected(let reason) where single, .tooLarge(let reason) where single:
            // Kept, counted and visible, and forwarding goes on.
            let path = "\(deadLetterDirectory)/\(batch.id).json"
            do {
                try FileSystem.makeDirectory(deadLetterDirectory)
                try FileSystem.replaceAtomically(path, with: batch.json(sentAt: SystemClock.shared.now(), status: nil))
                log.error("uplink \(uplink.name): batch \(batch.id) refused (\(reason)); kept in \(path)")
            } catch {
                log.error("uplink \(uplink.name): batch \(batch.id) refused (\(reason)) and cannot be kept: \(error); it stays in the journal")
                return .retry(afterMs: 60_000, reason: "dead-letter directory not writable")
            }
            acknowledge(batch, batcher)
            countersState.withLock { $0.deadLetters += 1; $0.lastError = reason }
            return .delivered
        case .laneRefused, .tooLarge, .rejected:
            return deliver([batch], batcher, status: status)
        }
    }

    private func acknowledge(_ batch: UplinkBatch, _ batcher: LaneBatcher) {
        do { try batcher.acknowledge(batch) } catch {
            log.error("journal: cannot record the acknowledgement of \(batch.id): \(error); it will be sent again")
        }
    }
}

import Glibc
import Synchronization
import VigilCore

/// The record pipeline's sink in `vigil run`: appends every record to the
/// journal (events fsynced at once, telemetry by the committer's group
/// commit) and wakes the forwarder when events became durable.
///
/// It also runs the alarm engine on every reading, whatever the disk does:
/// alarms, their log lines and the relays come first. An alarm event names the
/// reading that raised it and goes to the events lane, fsynced at once; when
/// the disk refuses, the journal holds it in memory until the disk takes it
/// (`Journal.take`), and counts what it cannot hold.
///
/// Then report by exception (`report:` in the config): of the readings the alarm
/// engine has seen, only those the `ReportFilter` lets through reach the journal
/// and so the uplink; the latest values (`vigil values`) keep every poll.
public final class JournalSink: RecordSink {
    public let journal: Journal
    private let committer: JournalCommitter
    private let onDurable: @Sendable () -> Void
    private let log: Logger
    private let alarms: Mutex<AlarmEngine>
    /// nil: every poll is reported (the default), and no time goes into filtering.
    private let reporting: Mutex<ReportFilter?>
    /// The relays the action rules drive, when the config has outputs.
    private let outputs: OutputController?
    /// The newest value of every point, and recent alarms, for the control socket.
    public let latest = LatestValues()
    private let repeatedErrors = RepeatLimiter(intervalSeconds: 60)
    /// Monotonic milliseconds, for alarm delays and report intervals (a benchmark turns its own).
    private let monotonicMs: @Sendable () -> Int64

    public init(journal: Journal, committer: JournalCommitter, log: Logger, alarmRules: [AlarmRule] = [], reporting: ReportPolicies = ReportPolicies(),
                outputs: OutputController? = nil, monotonicMs: @escaping @Sendable () -> Int64 = { monotonicNanos() / 1_000_000 },
                onDurable: @escaping @Sendable () -> Void) {
        self.monotonicMs = monotonicMs
        self.journal = journal
        self.committer = committer
        self.log = log
        self.onDurable = onDurable
        self.outputs = outputs
        self.alarms = Mutex(AlarmEngine(rules: alarmRules))
        self.reporting = Mutex(reporting.isEveryPoll ? nil : ReportFilter(reporting))
    }

    /// A reload: alarms whose rule did not change keep their state; points keep what they last
    /// reported while report by exception stays on (turned off and on, their next reading goes).
    public func reconfigure(alarmRules: [AlarmRule], reporting policies: ReportPolicies) {
        alarms.withLock { $0.reconfigure(alarmRules) }
        reporting.withLock { filter in
            if policies.isEveryPoll { filter = nil } else if filter == nil { filter = ReportFilter(policies) } else { filter!.reconfigure(policies) }
        }
    }

    public var activeAlarms: [AlarmRule] { alarms.withLock { $0.active } }

    public func accept(_ records: [Record]) { accept(batches: [records]) }

    public func accept(batches: [[Record]]) {
        let records = batches.flatMap { $0 }
        let before = journal.durableSeq
        latest.record(records)
        let now = monotonicMs()
        // Every poll through the alarm engine first; `raisedBy[i]`: the events reading i caused.
        var alarmEvents: [Event] = []
        var raisedBy: [Int: [Int]] = [:]
        let switched = alarms.withLock { engine in
            for i in records.indices {
                guard case .reading(let reading) = records[i] else { continue }
                for event in engine.process(reading, seq: nil, nowMs: now) {
                    raisedBy[i, default: []].append(alarmEvents.count)
                    alarmEvents.append(event)
                }
            }
            // The relays switch at once, before the journal: a valve does not wait on the disk.
            return alarmEvents.isEmpty ? [] : outputs?.update(active: engine.active, at: SystemClock.shared.now()) ?? []
        }
        // nil: all of them.
        let reported: [Int]? = reporting.withLock { filter in
            guard filter != nil else { return nil }
            return records.indices.filter { i in
                switch records[i] {
                case .reading(let reading):
                    return filter!.admit(reading, nowMs: now, forced: raisedBy[i] != nil)
                case .event(let event):
                    if event.kind == .deviceOnline, let device = event.device { filter!.forget(device: device) }
                    return true
                }
            }
        }
        let seqs = append(reported.map { $0.map { records[$0] } } ?? records, lane: "readings")
        committer.appended()
        // An alarm names the reading that raised it by its seq in the journal.
        if let seqs, !raisedBy.isEmpty {
            for (k, i) in (reported ?? Array(records.indices)).enumerated() {
                for e in raisedBy[i] ?? [] { alarmEvents[e].alarm?.triggerSeq = seqs.lowerBound + UInt64(k) }
            }
        }
        var events: [Event] = []
        if !alarmEvents.isEmpty {
            alarmEvents.forEach(logAlarm)
            events = alarmEvents + switched
            latest.record(events.map { Record.event($0) })
        }
        append(events.map { Record.event($0) }, lane: "events")
        if journal.durableSeq != before { onDurable() }
    }

    /// Hands records to the journal; a refusing disk is said once a minute.
    @discardableResult
    private func append(_ records: [Record], lane what: String) -> ClosedRange<UInt64>? {
        let taken = journal.take(records)
        if let error = taken.writeError,
           let line = repeatedErrors.admit(key: what, message: "journal: cannot write \(what): \(error); held in memory, alarms still evaluated") {
            log.error(line)
        }
        return taken.seqs
    }

    /// An operator acknowledges an alarm (a latched one clears if its condition
    /// is gone): the events, and any output that follows, are written at once.
    public func acknowledge(device: String, point: String, level: AlarmLevel, by who: String) -> [Event] {
        let now = SystemClock.shared.now()
        let (acked, switched) = alarms.withLock { engine in
            let acked = engine.acknowledge(device: device, point: point, level: level, at: now)
            return (acked, acked.isEmpty ? [] : outputs?.update(active: engine.active, at: now) ?? [])
        }
        guard !acked.isEmpty else { return [] }
        let events = acked.map { e -> Event in var e = e; e.detail = "by \(who)"; return e } + switched
        events.forEach(logAlarm)
        write(events)
        return events
    }

    /// Changes the outputs (an operator's override, a latch reset, new action
    /// rules) with the alarms the engine holds active, under the engine's lock;
    /// the switches are written at once.
    public func changeOutputs(_ change: (OutputController, [AlarmRule]) throws(OutputError) -> [Event]) throws(OutputError) -> [Event] {
        guard let outputs else { throw OutputError.unknown("", known: []) }
        let events = try alarms.withLock { (engine: inout AlarmEngine) throws(OutputError) -> [Event] in try change(outputs, engine.active) }
        write(events)
        return events
    }

    /// Events from outside the pipeline (operators, the GPIO controller): fsynced at once.
    public func write(_ events: [Event]) {
        guard !events.isEmpty else { return }
        let records = events.map { Record.event($0) }
        latest.record(records)
        append(records, lane: "events")
        onDurable()
    }

    /// `ALARM raised: gas-1 gas high at 51.3 %LEL, setpoint 25` — the unit is
    /// the reading's (the latest values hold it: they are recorded first).
    private func logAlarm(_ e: Event) {
        guard let a = e.alarm, let device = e.device else { return }
        let unit = latest.readings(device: device).first { $0.point == a.point }?.unit.map { " \($0)" } ?? ""
        let at = a.value.map { " at \(Self.number($0))\(unit)" } ?? ""
        let what = "\(device) \(a.point) \(a.level.rawValue)\(at), setpoint \(Self.number(a.setpoint))\(e.detail.map { " (\($0))" } ?? "")"
        switch e.kind {
        case .alarmRaised: log.warning("ALARM raised: \(what)")
        case .alarmCleared: log.info("alarm cleared: \(what)")
        default: log.info("alarm acknowledged: \(what)")
        }
    }

    /// As a person writes it: 25 not 25.0, a float32's 51.3 not 51.29999923706055.
    static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return "\(Int64(v))" }
        let f = Float(v)
        return Double(f) == v ? "\(f)" : "\(v)"
    }
}

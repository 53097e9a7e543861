import Glibc
import Synchronization
import VigilCore

/// The record pipeline's sink in `vigil run`: appends every record to the
/// journal (events fsynced at once, telemetry by the committer's group
/// commit) and wakes the forwarder when events became durable.
///
/// It also runs the alarm engine, once the readings have their seqs: an alarm
/// event names the reading that raised it, and goes to the events lane,
/// fsynced at once, within the same pipeline round as that reading.
public final class JournalSink: RecordSink {
    public let journal: Journal
    private let committer: JournalCommitter
    private let onDurable: @Sendable () -> Void
    private let log: Logger
    private let alarms: Mutex<AlarmEngine>
    /// The relays the action rules drive, when the config has outputs.
    private let outputs: OutputController?
    /// The newest value of every point, and recent alarms, for the control socket.
    public let latest = LatestValues()

    public init(journal: Journal, committer: JournalCommitter, log: Logger, alarmRules: [AlarmRule] = [], outputs: OutputController? = nil,
                onDurable: @escaping @Sendable () -> Void) {
        self.journal = journal
        self.committer = committer
        self.log = log
        self.onDurable = onDurable
        self.outputs = outputs
        self.alarms = Mutex(AlarmEngine(rules: alarmRules))
    }

    /// A reload: alarms whose rule did not change keep their state.
    public func reconfigureAlarms(_ rules: [AlarmRule]) { alarms.withLock { $0.reconfigure(rules) } }

    public var activeAlarms: [AlarmRule] { alarms.withLock { $0.active } }

    public func accept(_ records: [Record]) { accept(batches: [records]) }

    public func accept(batches: [[Record]]) {
        let records = batches.flatMap { $0 }
        let before = journal.durableSeq
        do {
            guard let seqs = try journal.append(records) else { return }
            committer.appended()
            latest.record(records)
            let now = monotonicNanos() / 1_000_000
            let (alarmEvents, active) = alarms.withLock { engine in
                (zip(seqs, records).flatMap { seq, record -> [Event] in
                    guard case .reading(let reading) = record else { return [] }
                    return engine.process(reading, seq: seq, nowMs: now)
                }, engine.active)
            }
            if !alarmEvents.isEmpty {
                alarmEvents.forEach(logAlarm)
                // The relays switch before the fsync: a valve does not wait on the disk.
                let switched = outputs?.update(active: active, at: SystemClock.shared.now()) ?? []
                let events = (alarmEvents + switched).map { Record.event($0) }
                try journal.append(events)
                latest.record(events)
            }
        } catch {
            // A full or failing disk: these records are lost; say so loudly.
            log.error("journal: cannot write \(records.count) records: \(error)")
        }
        if journal.durableSeq != before { onDurable() }
    }

    /// An operator acknowledges an alarm (a latched one clears if its condition
    /// is gone): the events, and any output that follows, are written at once.
    public func acknowledge(device: String, point: String, level: AlarmLevel, by who: String) -> [Event] {
        let now = SystemClock.shared.now()
        let (acked, active) = alarms.withLock { engine in (engine.acknowledge(device: device, point: point, level: level, at: now), engine.active) }
        guard !acked.isEmpty else { return [] }
        let events = acked.map { e -> Event in var e = e; e.detail = "by \(who)"; return e } + (outputs?.update(active: active, at: now) ?? [])
        events.forEach(logAlarm)
        write(events)
        return events
    }

    /// Events from outside the pipeline (operators, the GPIO controller): fsynced at once.
    public func write(_ events: [Event]) {
        guard !events.isEmpty else { return }
        let records = events.map { Record.event($0) }
        do { try journal.append(records) } catch { log.error("journal: cannot write \(events.count) events: \(error)") }
        latest.record(records)
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

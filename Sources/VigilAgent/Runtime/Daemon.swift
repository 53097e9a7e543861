import Glibc
import Synchronization
import VigilCore
import VigilGPIO
import VigilThreads

/// `vigil run`: the agent polling into the journal, and the forwarder sending
/// the journal upstream.
public final class Daemon: Sendable {
    /// The one config state: what runs, and what waits for a restart.
    public let configState: ConfigState
    public var config: VigilConfig { configState.effective }
    public let journal: Journal
    public let agent: Agent
    public let forwarder: Forwarder
    /// Upstream bytes per day, for `vigil status`.
    public let traffic: TrafficMeter
    public let supervisor: SupervisorService
    public let sink: JournalSink
    private let committer: JournalCommitter
    /// The gateway's inputs, relays and status LED; nil when the config has none.
    public let gpio: GPIOService?
    /// Where lines come from, also for a technician's one-off reads.
    public let gpioBackend: any GPIOBackend
    private let log: Logger
    /// When this run started (monotonic), for uptime.
    public let startedAt = monotonicNanos()
    /// What the service loop last did with the watchdogs, for `vigil status`.
    public let watchdogState = Mutex<(lastFeed: Int64?, stuck: [PartID])>((nil, []))
    private let control = Mutex<ControlServer?>(nil)
    /// Commands from the platform (ThingsBoard RPC); nil when the uplink brings none.
    private let commands: RemoteCommandRunner?

    /// Opens and recovers the journal (reporting damage upstream as an event),
    /// and builds the parts; nothing runs until `start()`.
    public init(config: VigilConfig, uplink: any Uplink, gpioBackend: any GPIOBackend = LibgpiodBackend(), log: Logger) throws(FileError) {
        let configState = ConfigState(config)
        self.configState = configState
        self.log = log
        let supervisor = SupervisorService(graceSeconds: Double(config.watchdog.graceSeconds))
        self.supervisor = supervisor
        let journal = try Journal(directory: config.journalDirectory, options: config.journal, clock: SystemClock.shared)
        self.journal = journal
        let recovery = journal.recovery
        if !recovery.isClean {
            log.warning("journal \(config.journalDirectory): \(recovery.summary)")
            // Held in memory when the disk is full: no reason not to start.
            if let error = journal.take([.event(Event(timestamp: SystemClock.shared.now(), kind: .journalRecovered, detail: recovery.summary))]).writeError {
                log.error("journal: cannot write the recovery event yet: \(error); it waits in memory")
            }
        } else {
            log.info("journal \(config.journalDirectory): \(recovery.summary)")
        }
        // What is durable wakes the forwarder; the forwarder, made last, asks the agent for device states.
        let forwarderWake = WakeSignal()
        traffic = TrafficMeter(file: "\(config.gateway.stateDir)/uplink-traffic", counter: { uplink.bytesOnTheWire }, log: log)
        self.gpioBackend = gpioBackend
        let gpio = config.gpio.isEmpty ? nil : GPIOService(spec: config.gpio, backend: gpioBackend, supervisor: supervisor, log: log)
        self.gpio = gpio
        let committer = JournalCommitter(journal: journal, supervisor: supervisor, log: log, onDurable: { forwarderWake.wake() })
        self.committer = committer
        let sink = JournalSink(journal: journal, committer: committer, log: log, alarmRules: AlarmRule.rules(for: config),
                               reporting: ReportPolicies(config), outputs: gpio?.outputs, onDurable: { forwarderWake.wake() })
        self.sink = sink
        let agent = Agent(config: config, sink: sink, supervisor: supervisor, log: log)
        self.agent = agent
        forwarder = Forwarder(journal: journal, uplink: uplink, gateway: config.gateway.id, batching: config.uplink.batching,
                              deadLetterDirectory: "\(config.gateway.stateDir)/dead-letter", log: log, wake: forwarderWake,
                              supervisor: supervisor, deviceStates: { agent.deviceStates },
                              activeAlarms: { sink.activeAlarms.map { StatusAlarm(device: $0.device, point: $0.point, level: $0.level) } })
        if let channel = uplink as? any CommandChannel, channel.carriesCommands, case .mqtt(let spec) = config.uplink {
            let runner = RemoteCommandRunner(agent: agent, config: configState, sink: sink, policy: spec.commands, source: "uplink \(uplink.name)",
                                             reply: { channel.reply(to: $0, $1) }, log: log)
            channel.acceptCommands { runner.submit($0) }
            commands = runner
        } else {
            commands = nil
        }
    }

    public func start() { parts().start() }

    /// The daemon's parts in start order; `stop` goes through them in reverse:
    /// the inputs end, polling ends and every poll is evaluated (alarms raised
    /// and journaled), outputs go to their safe states, `pollingEnded` runs — so
    /// the "stopping" line comes after the last alarm line — the last records
    /// are committed, and the uplink gets `drainSeconds` to deliver what is pending.
    private func parts(drainSeconds: Double = 1, pollingEnded: @escaping @Sendable () -> Void = {}) -> PartGroup {
        let forwarder = forwarder, journal = journal, sink = sink, gpio = gpio, config = config
        let uplinkSeconds = Double(config.uplink.batching.timeoutMs) / 1000
        let sending = StepPart(.forwarder, stopDeadlineSeconds: drainSeconds + uplinkSeconds + 5, start: forwarder.start) {
            forwarder.drainNow()
            let deadline = monotonicNanos() + Int64(drainSeconds * 1e9)
            while monotonicNanos() < deadline, journal.stats.pending.values.reduce(0, +) > 0 {
                forwarder.drainNow()
                usleep(20_000)
            }
            forwarder.stop()
            forwarder.uplink.close()
        }
        let outputs = StepPart(.outputs, stop: {
            if let gpio { sink.write(gpio.outputs.releaseToSafeStates(at: SystemClock.shared.now())) }
            pollingEnded()
        })
        let controlSocket = StepPart(.controlSocket, start: { [self] in startControlSocket() }, stop: { [self] in control.withLock { $0 }?.stop() })
        let inputs = StepPart(.gpio, start: { [agent] in
            gpio?.start(inputs: config.gpio.inputs, sink: agent.recordSink) {
                StatusLEDPattern.current(alarmActive: !sink.activeAlarms.isEmpty, uplinkHealthy: forwarder.isHealthy)
            }
        }, stop: { gpio?.stop() })
        let commandParts: [any ServicePart] = commands.map { [$0] } ?? []
        return PartGroup([sending, committer, outputs, agent] + commandParts + [controlSocket, inputs])
    }

    /// Applies a new (valid) config on reload; returns the ids of the buses restarted.
    public func apply(_ loaded: VigilConfig) -> [String] {
        let (config, later) = configState.apply(loaded)
        let restarted = agent.apply(config)
        sink.reconfigure(alarmRules: AlarmRule.rules(for: config), reporting: ReportPolicies(config))
        if let gpio {
            gpio.apply(inputs: config.gpio.inputs, sink: agent.recordSink)
            _ = try? sink.changeOutputs { outputs, active in outputs.reconfigure(actions: config.gpio.actions, active: active, at: SystemClock.shared.now()) }
        }
        if !later.isEmpty { log.warning("reload: changes to \(later.joined(separator: ", ")) take effect at the next restart") }
        return restarted
    }

    /// A socket that cannot be served is logged: polling goes on without it.
    private func startControlSocket() {
        do {
            let server = try ControlServer(path: config.control.socket, group: config.control.group,
                                           handler: ControlHandler(daemon: self, log: log), supervisor: supervisor, log: log)
            server.start()
            control.withLock { $0 = server }
        } catch {
            log.error("control socket: \(error); `vigil status` and the diagnostics commands will not reach this agent")
        }
    }

    /// An orderly stop: polling stops, everything polled is committed, the
    /// forwarder gets `drainSeconds` to deliver what is pending, the cursor is written.
    /// Stops in order: the polls in flight end and are evaluated (their alarms
    /// raised and journaled), then `pollingEnded` runs — so the "stopping" line
    /// comes after the last alarm line — then the uplink drains.
    public func stop(drainSeconds: Double = 1.0, pollingEnded: @escaping @Sendable () -> Void = {}) {
        let leftBehind = parts(drainSeconds: drainSeconds, pollingEnded: pollingEnded).stop(log: log)
        traffic.save()
        guard leftBehind.isEmpty else {
            // A part still running may still write: the next start recovers the journal instead.
            log.error("journal: left open (\(leftBehind.map(\.description).joined(separator: ", ")) still running); the next start recovers it")
            return
        }
        do { try journal.close() } catch { log.error("journal: close failed: \(error)") }
    }
}

extension Daemon {
    /// One line for systemd's STATUS and the run marker.
    public var statusLine: String {
        let states = agent.workers.flatMap { $0.counters.deviceStates.values }
        let online = states.filter { $0 == .online }.count, offline = states.filter { $0 == .offline }.count
        let stats = journal.stats
        let f = forwarder.counters
        let uplink = forwarder.isHealthy ? "uplink ok"
            : f.authenticationRefused ? "uplink: AUTHENTICATION REFUSED, fix the credentials (\(f.lastError ?? "?"))"
            : "uplink retrying (\(f.lastError ?? "?"))"
        let disk = journal.writeError.map { "; JOURNAL WRITE FAILING: \($0)" } ?? ""
        return "\(config.devices.filter(\.enabled).count) devices: \(online) online, \(offline) offline; queue \(stats.pending.values.reduce(0, +)); \(uplink)\(disk)"
    }
}

import Glibc
import VigilCore

/// `vigil run` under a service manager: READY=1 once the journal is
/// recovered and the buses are opened; WATCHDOG=1 (and the hardware watchdog)
/// only while the supervisor says every part is working; SIGHUP reloads;
/// SIGTERM stops in order; the run marker tells the next start whether this
/// one ended cleanly.
public struct ServiceLoop {
    public let daemon: Daemon
    public let notifier: SystemdNotifier
    public let log: Logger
    /// Loads and validates the config again (SIGHUP).
    public let reload: () -> Result<VigilConfig, ConfigErrors>

    public init(daemon: Daemon, notifier: SystemdNotifier, log: Logger, reload: @escaping () -> Result<VigilConfig, ConfigErrors>) {
        self.daemon = daemon
        self.notifier = notifier
        self.log = log
        self.reload = reload
    }

    /// Runs until SIGTERM or SIGINT (or `duration`); returns the exit code.
    public func run(duration: Double? = nil) -> Int32 {
        let config = daemon.config
        for warning in config.warnings { log.warning(warning) }
        let marker = RunMarker(stateDirectory: config.gateway.stateDir)
        if let previous = marker.previousUncleanRun() {
            log.warning("the last run did not stop cleanly (crash, watchdog reset or power cut): \(previous)")
            do {
                try daemon.journal.append([.event(Event(timestamp: SystemClock.shared.now(), kind: .uncleanStop, detail: previous))])
            } catch { log.error("journal: \(error)") }
        }
        let started = SystemClock.shared.now().iso8601
        writeMarker(marker, started: started)

        var hardware: HardwareWatchdog?
        if let device = config.watchdog.device {
            do {
                let w = try HardwareWatchdog(device: device, timeoutSeconds: config.watchdog.timeoutSeconds)
                if let problem = w.ioctlError { log.warning("watchdog \(device): \(problem); feeding it by writes only") }
                hardware = w
                log.info("watchdog \(device): armed, timeout \(config.watchdog.timeoutSeconds) s")
            } catch {
                log.error("watchdog: \(error); going on with systemd's watchdog only")
            }
        }

        daemon.start()
        // READY=1 once the journal is recovered (done) and every bus has opened or failed.
        daemon.agent.waitUntilBusesTried(seconds: Double(config.buses.map(\.timeoutMs).max() ?? 1000) * 2 / 1000 + 1)
        notify("READY=1\nSTATUS=\(daemon.statusLine)")
        log.info("vigil: polling \(config.devices.filter(\.enabled).count) device(s) on \(daemon.agent.workers.count) bus(es), forwarding to \(daemon.forwarder.uplink.name)")

        let pingEvery = min(notifier.watchdogPingSeconds ?? 1, hardware != nil ? Double(config.watchdog.timeoutSeconds) / 2 : 1, 1)
        let stopAt = duration.map { monotonicNanos() + Int64($0 * 1e9) }
        var lastPing: Int64 = 0, lastStatus = "", lastMarker = monotonicNanos()
        var starved = false
        let watchdogErrors = RepeatLimiter(intervalSeconds: 60)
        /// Stays in STATUS until a reload succeeds.
        var reloadProblem: String?
        var startUp: StartUpPages? = StartUpPages(now: monotonicNanos(), delivered: 0)
        loop: while true {
            let wait = stopAt.map { Double(max(0, $0 - monotonicNanos())) / 1e9 } ?? pingEvery
            switch Signals.wait(upToSeconds: min(pingEvery / 2, wait)) {
            case SIGTERM?, SIGINT?:
                break loop
            case SIGHUP?:
                reloadProblem = reloadConfig()
                if reloadProblem == nil { startUp = StartUpPages(now: monotonicNanos(), delivered: daemon.forwarder.counters.batchesDelivered) }
            default:
                if let stopAt, monotonicNanos() >= stopAt { break loop }
            }
            let (verdict, newlyStuck) = daemon.supervisor.evaluate()
            for part in newlyStuck {
                if daemon.supervisor.restart(part) {
                    log.error("\(part) has not checked in within its deadline; restarting it in process")
                } else {
                    log.error("\(part) has not checked in within its deadline and cannot be restarted in process; "
                              + "if it stays stuck past the \(config.watchdog.graceSeconds) s grace, the watchdog restarts the agent")
                }
            }
            let now = monotonicNanos()
            if verdict.feedWatchdog {
                if starved { log.info("every part checks in again: feeding the watchdog") }
                starved = false
                if Double(now - lastPing) / 1e9 >= pingEvery {
                    // Only when systemd asked (WATCHDOG_USEC, for this pid).
                    if notifier.watchdogMicroseconds != nil { notify("WATCHDOG=1") }
                    if let problem = hardware?.keepAlive(), let line = watchdogErrors.admit(key: "keep-alive", message: problem) { log.error(line) }
                    lastPing = now
                    daemon.watchdogState.withLock { $0 = (now, []) }
                }
            } else if !starved, case .failed(let stuck) = verdict {
                starved = true
                daemon.watchdogState.withLock { $0.stuck = stuck }
                log.error("not feeding the watchdog: \(stuck.map(\.description).joined(separator: ", ")) stuck past the \(config.watchdog.graceSeconds) s grace; expecting a restart")
                notify("STATUS=stuck: \(stuck.map(\.description).joined(separator: ", "))")
            }
            let status = starved ? lastStatus : (reloadProblem.map { "\($0); " } ?? "") + daemon.statusLine
            if !starved && status != lastStatus {
                notify("STATUS=\(status)")
                lastStatus = status
            }
            if let current = startUp, current.isOver(now: now, delivered: daemon.forwarder.counters.batchesDelivered) {
                let released = StartUpPages.release()
                log.debug(released)
                startUp = nil
            }
            if now - lastMarker > 60_000_000_000 {
                writeMarker(marker, started: started)
                daemon.traffic.save()
                lastMarker = now
            }
        }

        notify("STOPPING=1")
        daemon.stop { [log] in log.info("vigil: stopping: polling ended, every reading evaluated; draining the uplink") }
        if let problem = hardware?.closeCleanly() { log.error(problem) }
        do { try marker.remove() } catch { log.error("\(error)") }
        return 0
    }

    private func notify(_ state: String) {
        if let problem = notifier.notify(state) { log.warning(problem) }
    }

    private func writeMarker(_ marker: RunMarker, started: String) {
        do { try marker.write("started \(started), pid \(getpid()); at \(SystemClock.shared.now().iso8601): \(daemon.statusLine)") } catch {
            log.error("run marker: \(error)")
        }
    }

    /// SIGHUP: the new config is validated first; an invalid one leaves the
    /// running one in place, with the errors in the log and in STATUS.
    /// Returns the problem to keep showing, nil when the reload worked.
    private func reloadConfig() -> String? {
        notifier.notifyReloading()
        switch reload() {
        case .failure(let errors):
            for issue in errors.issues { log.error("reload: \(issue)") }
            log.error("reload: \(errors.issues.count) error(s); still running the previous config")
            let problem = "reload failed (\(errors.issues.count) errors in \(daemon.config.file)); running the previous config"
            notify("READY=1\nSTATUS=\(problem); \(daemon.statusLine)")
            return problem
        case .success(let config):
            let restarted = daemon.apply(config)
            log.info("reload: \(config.file) applied; buses restarted: \(restarted.isEmpty ? "none" : restarted.joined(separator: ", "))")
            notify("READY=1\nSTATUS=\(daemon.statusLine)")
            return nil
        }
    }
}

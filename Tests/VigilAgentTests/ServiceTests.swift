import Foundation
import XCTest
import VigilCore
import VigilTestSupport

/// `vigil run` as systemd runs it: sd_notify, the watchdog, reload, stop.
final class ServiceTests: XCTestCase {
    var simPort = 0
    var sim: PeerProcess!
    var dir = ""

    override func setUpWithError() throws {
        simPort = freeTCPPort()
        sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(simPort)", "--device", "1:honeywell-xnx", "--device", "4:generic-smoke:silent"])
        XCTAssertTrue(sim.waitFor("serving"))
        dir = temporaryDirectory()
    }

    override func tearDown() { sim.stop() }

    func writeConfig(_ extraDevices: String = "", watchdog: String = "grace_s: 2", name: String = "vigil.json5", port: Int? = nil) throws -> String {
        let path = "\(dir)/\(name)"
        try """
            { gateway: { id: 'gw-svc', state_dir: '\(dir)/state' },
              buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(port ?? simPort), timeout_ms: 300, retries: 0 }],
              devices: [{ id: 'gas', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 200 } \(extraDevices)],
              watchdog: { \(watchdog) },
              uplink: { kind: 'stdout' } }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startAgent(_ config: String, notify: NotifySocket, extraEnvironment: [String: String] = [:], logLevel: String = "info") throws -> PeerProcess {
        try PeerProcess(Repo.vigil, ["run", "--config", config, "--log-level", logLevel],
                        environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"].merging(extraEnvironment) { $1 })
    }

    func testReadyWatchdogPingsAndStatus() throws {
        let notify = try NotifySocket()
        let agent = try startAgent(try writeConfig(), notify: notify)
        defer { agent.stop() }
        XCTAssertTrue(eventually { notify.times(of: "WATCHDOG=1").count >= 6 }, "\(notify.messages) \(agent.stderr)")
        XCTAssertTrue(notify.messages.first?.message.hasPrefix("READY=1") ?? false, "READY=1 comes first: \(notify.messages.first?.message ?? "")")
        let pings = notify.times(of: "WATCHDOG=1")
        let gaps = zip(pings.dropFirst(), pings).map { $0.timeIntervalSince($1) }
        XCTAssertLessThanOrEqual(gaps.max() ?? 9, 0.75, "at half of WATCHDOG_USEC (1 s) or more often: \(gaps)")
        XCTAssertTrue(notify.lastValue(of: "STATUS")?.contains("1 devices: 1 online, 0 offline; queue") ?? false, notify.lastValue(of: "STATUS") ?? "")
    }

    func testAnAbstractNotifySocketAndAWatchdogMeantForAnotherPid() throws {
        let notify = try NotifySocket(abstract: true)
        XCTAssertTrue(notify.path.hasPrefix("@"))
        let agent = try startAgent(try writeConfig(), notify: notify, extraEnvironment: ["WATCHDOG_PID": "1"])
        defer { agent.stop() }
        XCTAssertTrue(eventually { !notify.times(of: "READY=1").isEmpty }, "READY=1 over an abstract socket: \(agent.stderr)")
        Thread.sleep(forTimeInterval: 2)
        XCTAssertTrue(notify.times(of: "WATCHDOG=1").isEmpty, "WATCHDOG_PID names another process: no pings from us")
    }

    func testAWedgedWorkerStopsThePingsButAMereTimeoutDoesNot() throws {
        // The silent device only times out: the worker goes on and checks in.
        let notify = try NotifySocket()
        let timeouts = try startAgent(try writeConfig(", { id: 'dead', bus: 'sim', unit: 4, profile: 'generic-smoke', interval_ms: 200 }"), notify: notify)
        Thread.sleep(forTimeInterval: 6)
        timeouts.stop()
        let pings = notify.times(of: "WATCHDOG=1")
        XCTAssertGreaterThan(pings.count, 8)
        XCTAssertLessThan(Date().timeIntervalSince(pings.last!), 1.5, "pings went on to the end")

        // A fault that blocks the worker: the pings stop within its deadline plus the grace.
        let wedgedNotify = try NotifySocket()
        let device = try TricklingDevice(answering: 3)
        let wedged = try startAgent(try writeConfig(name: "wedged.json5", port: device.port), notify: wedgedNotify)
        defer { wedged.stop() }
        defer { device.stop() }
        XCTAssertTrue(eventually(timeout: 10) { device.isTrickling }, wedged.stderr)
        let wedgedAt = Date()
        // Deadline: one poll (1 block × 300 ms) + 300 ms to open + 1 s sleep + 5 s slack; grace 2 s.
        XCTAssertTrue(wedged.waitFor("not feeding the watchdog", timeout: 20), wedged.stderr)
        let last = wedgedNotify.times(of: "WATCHDOG=1").last!
        XCTAssertLessThan(last.timeIntervalSince(wedgedAt), 6.6 + 2 + 1.5, "pings stop within deadline + grace")
        Thread.sleep(forTimeInterval: 2)
        XCTAssertEqual(wedgedNotify.times(of: "WATCHDOG=1").last, last, "and stay stopped")
        XCTAssertTrue(wedged.stderr.contains("bus sim has not checked in within its deadline; restarting it in process"), wedged.stderr)
        XCTAssertTrue(wedgedNotify.lastValue(of: "STATUS")?.hasPrefix("stuck: bus sim") ?? false)

        // An orderly stop does not hang on the wedged worker: it is left behind and the rest stops.
        wedged.signal(SIGTERM)
        XCTAssertTrue(eventually(timeout: 25) { !wedged.process.isRunning }, wedged.stderr)
        XCTAssertTrue(device.isTrickling, "still wedged when the agent ended")
        XCTAssertTrue(wedged.stderr.contains("error: bus sim did not stop within"), wedged.stderr)
        // The worker hands its polls to the journal writer, which did stop: the journal is closed cleanly all the same.
        XCTAssertTrue(try Journal(directory: "\(dir)/state/journal").recovery.isClean, wedged.stderr)
    }

    func testABadConfigOnReloadKeepsTheOldOneRunning() throws {
        let notify = try NotifySocket()
        let config = try writeConfig()
        let agent = try startAgent(config, notify: notify)
        defer { agent.stop() }
        XCTAssertTrue(eventually { agent.stdout.split(separator: "\n").count > 10 })
        try "{ gateway: { id: 'gw-svc' }, buses: [], devices: [{ id: 'x', bus: 'nope', unit: 1 }] }".write(toFile: config, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        XCTAssertTrue(eventually { notify.lastValue(of: "STATUS")?.hasPrefix("reload failed") ?? false }, "\(notify.messages.map(\.message))")
        XCTAssertTrue(notify.messages.contains { $0.message.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") })
        XCTAssertEqual(notify.times(of: "READY=1").count, 2, "READY=1 again after the reload")
        // The log comes through a pipe the test reads on its own: it may trail the notification.
        XCTAssertTrue(eventually { agent.stderr.contains("devices[0].bus: no bus has the id \"nope\"") }, agent.stderr)
        XCTAssertTrue(eventually { agent.stderr.contains("still running the previous config") }, agent.stderr)
        let before = agent.stdout.split(separator: "\n").count
        XCTAssertTrue(eventually { agent.stdout.split(separator: "\n").count > before + 10 }, "the old config still polls")
        XCTAssertTrue(agent.process.isRunning)

        // A good config on reload: applied, and only the changed bus restarts.
        // …sent the way `systemctl reload` does: the unit's own ExecReload= (no /bin/kill on a minimal image).
        _ = try writeConfig(", { id: 'dead', bus: 'sim', unit: 4, profile: 'generic-smoke', interval_ms: 200 }")
        let unit = try String(contentsOfFile: Repo.path("systemd/vigil.service"), encoding: .utf8)
        let execReload = try XCTUnwrap(unit.split(separator: "\n").first { $0.hasPrefix("ExecReload=") }).dropFirst("ExecReload=".count)
        let words = execReload.split(separator: " ").map { String($0) == "$MAINPID" ? "\(agent.process.processIdentifier)" : String($0) }
        XCTAssertEqual(words.first, "/usr/bin/vigil", "the reload needs nothing but vigil itself")
        let reload = try runCommand(Repo.vigil, Array(words.dropFirst()))
        XCTAssertEqual(reload.status, 0, reload.stderr)
        XCTAssertTrue(eventually { agent.stderr.contains("reload:") && agent.stderr.contains("applied; buses restarted: sim") }, agent.stderr)

        // A section that only a restart changes: the devices stay applied, the watchdog runs as started, and the log says so.
        _ = try writeConfig(", { id: 'dead', bus: 'sim', unit: 4, profile: 'generic-smoke', interval_ms: 200 }", watchdog: "grace_s: 3")
        agent.signal(SIGHUP)
        XCTAssertTrue(eventually { agent.stderr.contains("reload: changes to watchdog take effect at the next restart") }, agent.stderr)
        XCTAssertTrue(eventually { agent.stderr.contains("applied; buses restarted: none") }, agent.stderr)
    }

    func testOnceStartUpIsOverItsCodePagesLeaveTheResidentSetAndAgainAfterAReload() throws {
        let notify = try NotifySocket()
        let agent = try startAgent(try writeConfig(), notify: notify, logLevel: "debug")
        defer { agent.stop() }
        XCTAssertTrue(eventually { agent.stderr.contains("start-up over: ") }, agent.stderr)
        let line = try XCTUnwrap(agent.stderr.split(separator: "\n").first { $0.contains("start-up over: ") })
        let released = try XCTUnwrap(Int(line.split(separator: " ").first { Int($0) != nil } ?? ""), String(line))
        let polled = agent.stdout.split(separator: "\n").count
        XCTAssertTrue(eventually { agent.stdout.split(separator: "\n").count > polled + 10 }, "it still polls and writes: \(agent.stderr)")
        let status = try String(contentsOfFile: "/proc/\(agent.process.processIdentifier)/status", encoding: .utf8)
        func kib(_ key: String) -> Int { Int(status.split(separator: "\n").first { $0.hasPrefix(key) }?.split(separator: " ").dropFirst().first ?? "") ?? 0 }
        XCTAssertGreaterThan(released, 1024, "the start-up's code is more than a MiB: \(line)")
        // Pages touched again come back (64 KiB at a time), far from all of them.
        XCTAssertLessThan(kib("VmRSS:"), kib("VmHWM:") - released / 4, "the resident set fell below its start-up peak: \(status)")

        agent.signal(SIGHUP)
        XCTAssertTrue(eventually { agent.stderr.components(separatedBy: "start-up over: ").count == 3 }, "a reload is a start-up too: \(agent.stderr)")
    }

    func testSIGTERMStopsCleanlyAndAnUncleanStopIsReportedNextTime() throws {
        let notify = try NotifySocket()
        let config = try writeConfig()
        let agent = try startAgent(config, notify: notify)
        XCTAssertTrue(eventually { agent.stdout.split(separator: "\n").count > 10 })
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/state/running"))
        agent.signal(SIGTERM)
        XCTAssertTrue(eventually { !agent.process.isRunning })
        XCTAssertEqual(agent.stop(), 0)
        XCTAssertFalse(notify.times(of: "STOPPING=1").isEmpty)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/state/running"), "a clean stop removes the marker")
        let journal = try Journal(directory: "\(dir)/state/journal")
        XCTAssertTrue(journal.recovery.isClean, journal.recovery.summary)
        XCTAssertEqual(journal.stats.pending.values.reduce(0, +), 0, "everything was delivered before exit")

        // Now a crash: the next start says so, upstream.
        let crashed = try startAgent(config, notify: notify)
        XCTAssertTrue(eventually { crashed.stdout.split(separator: "\n").count > 5 })
        XCTAssertTrue(crashed.stderr.contains(" info: journal \(dir)/state/journal: opened, "), "after a clean stop the journal opens at info: \(crashed.stderr)")
        XCTAssertTrue(crashed.stderr.contains("nothing damaged"), crashed.stderr)
        XCTAssertFalse(crashed.stderr.contains(" warning: "), crashed.stderr)
        kill(crashed.process.processIdentifier, SIGKILL)
        crashed.process.waitUntilExit()
        let next = try startAgent(config, notify: notify)
        defer { next.stop() }
        XCTAssertTrue(eventually { next.stdout.contains("\"event\":\"unclean_stop\"") }, next.stdout.prefix(2000) + next.stderr)
        XCTAssertTrue(next.stderr.contains("the last run did not stop cleanly"))
    }

    func testTheHardwareWatchdogIsFedWhileHealthyAndDisarmedOnlyOnACleanStop() throws {
        let fake = "\(dir)/watchdog"
        FileManager.default.createFile(atPath: fake, contents: Data())
        let config = try writeConfig(watchdog: "grace_s: 2, device: '\(fake)', timeout_s: 2")
        let notify = try NotifySocket()
        let agent = try startAgent(config, notify: notify)
        XCTAssertTrue(eventually { ((try? Data(contentsOf: URL(fileURLWithPath: fake)))?.count ?? 0) >= 3 }, agent.stderr)
        agent.signal(SIGTERM)
        XCTAssertEqual(agent.stop(), 0)
        let written = String(decoding: try Data(contentsOf: URL(fileURLWithPath: fake)), as: UTF8.self)
        XCTAssertTrue(written.hasSuffix("V"), "the magic close comes last: \(written)")
        XCTAssertTrue(written.dropLast().allSatisfy { $0 == "k" }, written)
        XCTAssertTrue(agent.stderr.contains("WDIOC_SETTIMEOUT"), "a plain file refuses the ioctl, and says so: \(agent.stderr)")

        // A crash leaves it armed: no 'V'.
        try Data().write(to: URL(fileURLWithPath: fake))
        let crashed = try startAgent(config, notify: notify)
        XCTAssertTrue(eventually { ((try? Data(contentsOf: URL(fileURLWithPath: fake)))?.count ?? 0) >= 2 })
        kill(crashed.process.processIdentifier, SIGKILL)
        crashed.process.waitUntilExit()
        XCTAssertFalse(String(decoding: try Data(contentsOf: URL(fileURLWithPath: fake)), as: UTF8.self).contains("V"))

        // A wedged agent stops feeding it.
        try Data().write(to: URL(fileURLWithPath: fake))
        let device = try TricklingDevice(answering: 3)
        let wedged = try startAgent(try writeConfig(watchdog: "grace_s: 2, device: '\(fake)', timeout_s: 2", name: "wedged.json5", port: device.port),
                                    notify: notify)
        defer { wedged.stop() }
        defer { device.stop() }
        XCTAssertTrue(wedged.waitFor("not feeding the watchdog", timeout: 20))
        let fed = try Data(contentsOf: URL(fileURLWithPath: fake)).count
        Thread.sleep(forTimeInterval: 2)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: fake)).count, fed, "no keep-alive once stuck")
    }

    func testTheUnitFilesPassSystemdAnalyzeVerifyAndScoreWell() throws {
        let analyze = try requirePeer("systemd-analyze")
        let unit = try String(contentsOfFile: Repo.path("systemd/vigil.service"), encoding: .utf8)
            .replacingOccurrences(of: "/usr/bin/vigil", with: Repo.vigil)
        let path = "\(dir)/vigil.service"
        try unit.write(toFile: path, atomically: true, encoding: .utf8)
        // --man=no: Documentation=man:vigil(1) comes with the package (make deb-check finds it installed;
        // CommandLineTests checks the page, lintian reads it).
        let verify = try runCommand(analyze, ["verify", "--man=no", path])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        let security = try runCommand(analyze, ["security", "--offline=true", path])
        let line = (security.stdout + security.stderr).split(separator: "\n").first { $0.contains("Overall exposure level") } ?? ""
        let score = line.split(separator: " ").compactMap { Double($0) }.first
        XCTAssertNotNil(score, String(line))
        XCTAssertLessThanOrEqual(score ?? 10, 2.5, String(line))
    }
}

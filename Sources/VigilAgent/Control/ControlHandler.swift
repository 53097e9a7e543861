import FoundationEssentials
import Glibc
import VigilCore
import VigilUplink

/// Answers control requests from what the running daemon knows. Requests
/// that change something (a device write, an output, an acknowledgement, a
/// dead letter) are logged with who asked.
public final class ControlHandler: Sendable {
    let daemon: Daemon
    let log: Logger

    public init(daemon: Daemon, log: Logger) {
        self.daemon = daemon
        self.log = log
    }

    func handle(_ request: ControlRequest, peer: String) -> [UInt8] {
        switch request.command {
        case "status": return ControlServer.encode(ControlReply(result: status()))
        case "values":
            let now = SystemClock.shared.now()
            let readings = daemon.sink.latest.readings(device: request.device)
            if let device = request.device, readings.isEmpty, !daemon.config.devices.contains(where: { $0.id == device }), device != GPIOSpec.device {
                return failure("no device \"\(device)\"", ControlCode.usage)
            }
            return ControlServer.encode(ControlReply(result: readings.map { ValueReport($0, now: now) }))
        case "frames":
            guard let worker = worker(request.bus) else { return noBus(request.bus) }
            return ControlServer.encode(ControlReply(result: worker.frames.frames))
        case "probe": return probe(request, peer: peer)
        case "alarms":
            return ControlServer.encode(ControlReply(result: AlarmsReport(active: activeAlarms(),
                                                                          recent: daemon.sink.latest.recentAlarmEvents.map(EventReport.init))))
        case "alarm.ack": return acknowledge(request, peer: peer)
        case "queue": return ControlServer.encode(ControlReply(result: queue()))
        case "queue.peek": return peek(request.count ?? 10)
        case "dead-letters", "dead-letters.retry", "dead-letters.retry-all", "dead-letters.delete": return deadLetters(request, peer: peer)
        case "uplink.test": return uplinkTest()
        case "gpio": return ControlServer.encode(ControlReply(result: gpio()))
        case "gpio.set", "gpio.reset": return setOutput(request, peer: peer)
        case "gpio.read": return readLine(request.line ?? "")
        default: return failure("unknown command \"\(request.command)\"", ControlCode.usage)
        }
    }

    func failure(_ message: String, _ code: Int32) -> [UInt8] { ControlServer.encode(ControlReply<String>(error: message, code: code)) }

    func worker(_ bus: String?) -> BusWorker? { daemon.agent.workers.first { $0.bus.id == bus } }

    func noBus(_ bus: String?) -> [UInt8] {
        let known = daemon.agent.workers.map(\.bus.id)
        return failure("the agent polls no bus \"\(bus ?? "")\" (its buses: \(known.joined(separator: ", ")))", ControlCode.usage)
    }

    /// A request for the bus's worker, run between its polls.
    private func probe(_ request: ControlRequest, peer: String) -> [UInt8] {
        guard let probe = request.probe else { return failure("probe: no request given", ControlCode.usage) }
        guard let worker = worker(request.bus) else { return noBus(request.bus) }
        if probe.operation == .write {
            log.warning("control: \(peer) writes \(probe.table.rawValue) \(probe.address) = \(probe.values ?? []) on unit \(probe.unit), bus \(worker.bus.id)")
        }
        // The worker may be in the middle of a slow poll: give it that long, plus the request's own timeout.
        let wait = worker.deadlineSeconds + Double(probe.timeoutMs ?? worker.bus.timeoutMs) / 1000
        guard let answer = worker.probe(probe, waitSeconds: wait) else {
            return failure("bus \(worker.bus.id): its worker did not take the request within \(Int(wait)) s", ControlCode.failed)
        }
        return ControlServer.encode(ControlReply(result: answer))
    }

    private func acknowledge(_ request: ControlRequest, peer: String) -> [UInt8] {
        let parts = (request.alarm ?? "").split(separator: "/").map(String.init)
        guard parts.count == 3, let level = AlarmLevel(rawValue: parts[2]) else {
            return failure("alarm: expected DEVICE/POINT/LEVEL as `vigil alarms` lists it, got \"\(request.alarm ?? "")\"", ControlCode.usage)
        }
        let events = daemon.acknowledge(device: parts[0], point: parts[1], level: level, by: peer)
        guard !events.isEmpty else {
            let active = daemon.sink.activeAlarms.map { AlarmReport($0).id }
            return failure("no unacknowledged active alarm \(request.alarm!) (active: \(active.isEmpty ? "none" : active.joined(separator: ", ")))", ControlCode.failed)
        }
        log.warning("control: \(peer) acknowledged alarm \(request.alarm!)")
        return ControlServer.encode(ControlReply(result: ActionReport(events: events.map(EventReport.init))))
    }

    private func setOutput(_ request: ControlRequest, peer: String) -> [UInt8] {
        let output = request.output ?? ""
        do {
            let events: [Event]
            if request.command == "gpio.reset" {
                events = try daemon.resetLatch(output: output, by: peer)
            } else {
                let value: Bool?
                switch request.state {
                case "on": value = true
                case "off": value = false
                case "auto": value = nil
                default: return failure("state: expected on, off or auto, got \"\(request.state ?? "")\"", ControlCode.usage)
                }
                events = try daemon.override(output: output, value, by: peer)
            }
            log.warning("control: \(peer) \(request.command == "gpio.reset" ? "reset the latch of" : "set") output \(output)\(request.state.map { " \($0)" } ?? "")")
            return ControlServer.encode(ControlReply(result: ActionReport(events: events.map(EventReport.init))))
        } catch {
            return failure("\(error)", ControlCode.usage)
        }
    }

    func gpio() -> GPIOReport {
        let spec = daemon.config.gpio
        let inputs = spec.inputs.map { input -> GPIOReport.Input in
            let r = daemon.sink.latest.readings(device: GPIOSpec.device).first { $0.point == input.id }
            var active: Bool?
            if case .bool(let b)? = r?.value { active = b }
            return GPIOReport.Input(id: input.id, line: input.line.description, active: active, quality: r?.quality.rawValue, error: r?.error)
        }
        let board = daemon.config.gateway.board
        var users: [String: String] = [:]
        for i in spec.inputs { users["\(i.line.chip)/\(i.line.offset)"] = "input \(i.id)" }
        for o in spec.outputs { users["\(o.line.chip)/\(o.line.offset)"] = "output \(o.id)" }
        if let led = spec.statusLED { users["\(led.chip)/\(led.offset)"] = "status LED" }
        let lines = board.map { b in
            [("input", b.digitalInputs), ("relay", b.relays), ("led", b.leds)].flatMap { kind, lines in
                lines.map { GPIOReport.BoardLine(label: $0.label, kind: kind, line: "\($0.chip) line \($0.line)", usedBy: users["\($0.chip)/\($0.line)"]) }
            }
        } ?? []
        return GPIOReport(inputs: inputs, outputs: outputs(), statusLED: spec.statusLED?.description, board: board?.name, boardLines: lines)
    }

    /// A configured input answers from its watcher (the line is the watcher's);
    /// any other line is requested as an input, read once and released.
    private func readLine(_ name: String) -> [UInt8] {
        let spec = daemon.config.gpio
        let board = daemon.config.gateway.board
        if let input = spec.inputs.first(where: { $0.id == name || $0.line.label == name }) {
            let r = daemon.sink.latest.readings(device: GPIOSpec.device).first { $0.point == input.id }
            guard case .bool(let active)? = r?.value else {
                return failure("input \(input.id): no good reading yet\(r?.error.map { " (\($0))" } ?? "")", ControlCode.device)
            }
            return ControlServer.encode(ControlReply(result: LineReading(line: input.line.description, active: active, source: "input \(input.id) (the agent's watcher)")))
        }
        if spec.outputs.contains(where: { $0.id == name || $0.line.label == name }) || spec.statusLED?.label == name {
            return failure("\(name) is an output the agent drives: see `vigil gpio`", ControlCode.usage)
        }
        let line: GPIOLine
        if let l = board?.digitalInputs.first(where: { $0.label == name }) {
            line = GPIOLine(chip: l.chip, offset: l.line, activeLow: l.activeLow, bias: l.bias, label: l.label)
        } else if let colon = name.lastIndex(of: ":"), let offset = Int(name[name.index(after: colon)...]) {
            line = GPIOLine(chip: String(name[..<colon]), offset: offset)
        } else {
            let known = (board?.digitalInputs.map(\.label) ?? []) + spec.inputs.map(\.id)
            return failure("no input line \"\(name)\" (give a board input label, an input id or CHIP:OFFSET; known: \(known.joined(separator: ", ")))", ControlCode.usage)
        }
        do {
            let input = try daemon.gpioBackend.input(line, consumer: "vigil-diag")
            return ControlServer.encode(ControlReply(result: LineReading(line: line.description, active: try input.read(), source: "requested for this read")))
        } catch {
            return failure("\(error)", ControlCode.device)
        }
    }

    func outputs() -> [OutputReport] {
        (daemon.gpio?.outputs.states ?? []).map {
            OutputReport(id: $0.id, line: $0.line, state: $0.on.map { $0 ? "on" : "off" } ?? "unknown", safeState: $0.safeState ? "on" : "off",
                         overridden: $0.overridden, error: $0.error)
        }
    }

    private func uplinkTest() -> [UInt8] {
        switch daemon.config.uplink {
        case .stdout:
            return failure("the uplink is standard output (kind: stdout): nothing to test", ControlCode.usage)
        case .http(let spec):
            return httpUplinkTest(spec)
        case .mqtt(let spec) where [.alink, .iotda, .onenet].contains(spec.format):
            return failure("uplink test does not connect for format \(spec.format.rawValue): the platform keeps one connection per device and would log the agent out; "
                           + "`vigil status` shows the agent's own connection", ControlCode.usage)
        case .mqtt(let spec):
            return mqttUplinkTest(spec)
        case .hj212(let spec):
            return hj212UplinkTest(spec)
        }
    }

    private static func describe(_ outcome: UplinkOutcome) -> String {
        switch outcome {
        case .delivered: "delivered"
        case .retry(_, let reason): "would retry: \(reason)"
        case .unauthorized(let reason): "would wait for valid credentials, retrying: \(reason)"
        case .laneRefused(let reason): "refused for now, that lane would wait: \(reason)"
        case .tooLarge(let reason): "too large, would be sent again in smaller batches: \(reason)"
        case .rejected(let reason): "refused: \(reason)"
        }
    }

    private func httpUplinkTest(_ spec: HTTPUplinkSpec) -> [UInt8] {
        do {
            // A connection of its own: the forwarder's is busy on its own thread.
            let uplink = try httpUplink(spec, config: daemon.config)
            let now = SystemClock.shared.now()
            let heartbeat = uplink.heartbeatBody(daemon.forwarder.status(), at: now) ?? []
            let e = uplink.post(heartbeat, idempotencyKey: "\(daemon.config.gateway.id)-uplink-test-\(now.milliseconds)")
            var report = UplinkTestReport(url: redactedURL(spec.url), httpStatus: e.httpStatus, outcome: Self.describe(e.outcome), error: e.error,
                                          nameLookupMs: e.nameLookupSeconds * 1000, connectMs: e.connectSeconds * 1000,
                                          tlsMs: e.tlsSeconds * 1000, totalMs: e.seconds * 1000)
            report.transport = "http"
            if e.outcome == .delivered { report.batchVersion = uplink.sendsVersion2 ? 2 : 1 }
            return ControlServer.encode(ControlReply(result: report))
        } catch {
            return failure("uplink: \(error)", ControlCode.failed)
        }
    }

    /// HJ 212 has no message without data: the test is the connection (and the password file).
    private func hj212UplinkTest(_ spec: HJ212UplinkSpec) -> [UInt8] {
        let uplink: HJ212Uplink
        do { uplink = try HJ212Uplink(spec: spec, format: hj212Format(spec, config: daemon.config)) } catch {
            return failure("uplink: \(error)", ControlCode.failed)
        }
        let started = monotonicNanos()
        let error = uplink.connectOnce()
        let ms = Double(monotonicNanos() - started) / 1e6
        var report = UplinkTestReport(url: spec.url, httpStatus: nil, outcome: error == nil ? "connected" : "not connected", error: error,
                                      nameLookupMs: 0, connectMs: error == nil ? ms : 0, tlsMs: 0, totalMs: ms)
        report.transport = "hj212"
        return ControlServer.encode(ControlReply(result: report))
    }

    private func mqttUplinkTest(_ spec: MQTTUplinkSpec) -> [UInt8] {
        let gateway = daemon.config.gateway.id
        var probe = spec
        probe.clientID = "\(spec.clientID ?? gateway)-uplink-test" // the agent's own client id would take its session over
        probe.sessionExpirySeconds = 0
        let started = monotonicNanos()
        let uplink: MQTTUplink
        do { uplink = try MQTTUplink(spec: probe, gateway: gateway, format: messageFormat(probe, config: daemon.config, log: log), announcesPresence: false) } catch {
            return failure("uplink: \(error)", ControlCode.failed)
        }
        defer { uplink.close() }
        let ms = { Double(monotonicNanos() - started) / 1e6 }
        var report = UplinkTestReport(url: redactedURL(spec.url), httpStatus: nil, outcome: "not connected", error: nil,
                                      nameLookupMs: 0, connectMs: 0, tlsMs: 0, totalMs: 0)
        report.transport = "mqtt"
        if uplink.waitUntilConnected(timeoutMs: spec.batching.timeoutMs) {
            report.connectMs = ms()
            let outcome = uplink.sendHeartbeat(daemon.forwarder.status()) ?? .delivered
            report.totalMs = ms()
            report.outcome = Self.describe(outcome)
        } else {
            report.error = uplink.lastError ?? "no CONNACK within \(spec.batching.timeoutMs) ms"
        }
        return ControlServer.encode(ControlReply(result: report))
    }
}

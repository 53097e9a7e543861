import Dispatch
import Glibc
import Synchronization
import VigilCore
import VigilThreads

/// Carries out what the platform asks through the uplink (ThingsBoard RPC)
/// on a thread of its own: the uplink's network thread only queues, and a
/// read waits for the bus worker between its polls, as `vigil diag read`
/// does. Every command is logged with the uplink it came through; a write
/// goes only where `commands.allow_writes` grants it.
final class RemoteCommandRunner: ServicePart {
    private let agent: Agent
    private let configState: ConfigState
    private let sink: JournalSink
    private let policy: RemoteCommandPolicy
    private let source: String
    private let reply: @Sendable (RemoteCommand, RemoteCommandResult) -> Void
    private let log: Logger
    private let queue = Mutex<(commands: [RemoteCommand], stopping: Bool)>(([], false))
    private let signal = DispatchSemaphore(value: 0)
    private let thread = Mutex<DedicatedThread?>(nil)
    /// Commands waiting at most; more are answered "busy" at once (a platform repeating a command must not queue reads behind a slow bus).
    static let maxQueued = 16

    init(agent: Agent, config: ConfigState, sink: JournalSink, policy: RemoteCommandPolicy, source: String,
         reply: @escaping @Sendable (RemoteCommand, RemoteCommandResult) -> Void, log: Logger) {
        self.agent = agent; self.configState = config; self.sink = sink; self.policy = policy; self.source = source; self.reply = reply; self.log = log
    }

    var partID: PartID { .remoteCommands }

    func start() {
        let t = DedicatedThread(name: "commands") { [self] in run() }
        thread.withLock { $0 = t }
        t.start()
    }

    func stop() {
        queue.withLock { $0.stopping = true }
        signal.signal()
        thread.withLock { $0 }?.join()
    }

    /// Called on the uplink's network thread: queues, never blocks.
    func submit(_ command: RemoteCommand) {
        let queued = queue.withLock { q -> Bool in
            guard q.commands.count < Self.maxQueued, !q.stopping else { return false }
            q.commands.append(command)
            return true
        }
        if queued { signal.signal() } else { reply(command, .failure("the gateway is busy with \(Self.maxQueued) commands; try again")) }
    }

    private func run() {
        while true {
            signal.wait()
            guard let command = queue.withLock({ q -> RemoteCommand? in q.stopping || q.commands.isEmpty ? nil : q.commands.removeFirst() }) else {
                if queue.withLock({ $0.stopping }) { return }
                continue
            }
            reply(command, execute(command))
        }
    }

    func execute(_ command: RemoteCommand) -> RemoteCommandResult {
        // Sparkplug's commands carry no id.
        let who = command.idJSON == "null" ? "\(source) (\(command.method))" : "\(source) (\(command.method) id \(command.idJSON))"
        let config = configState.effective
        switch command.action {
        case .announceAgain: // the uplink publishes the births itself
            return .success(members: "")
        case .invalid(let reason):
            log.warning("uplink command from \(who) for \(command.device) refused: \(reason)")
            return .failure(reason)
        case .alarmAck(let point, let level):
            let events = (level.map { [$0] } ?? AlarmLevel.allCases).flatMap { sink.acknowledge(device: command.device, point: point, level: $0, by: who) }
            let name = "\(command.device)/\(point)\(level.map { "/\($0.rawValue)" } ?? "")"
            guard !events.isEmpty else { return .failure("no unacknowledged active alarm \(name)") }
            log.warning("uplink command from \(who): acknowledged alarm \(name)")
            let ids = events.compactMap { e in e.alarm.map { "\"\(command.device)/\($0.point)/\($0.level.rawValue)\"" } }
            return .success(members: #""acknowledged":["# + ids.joined(separator: ",") + "]")
        case .read(let table, let address, let count):
            return probe(ModbusProbe(operation: .read, unit: 0, table: table, address: address, count: count), command, config)
        case .write(let table, let address, let values):
            guard policy.allowsWrite(device: command.device, table: table, address: address, count: values.count) else {
                let grant = "\(command.device)/\(table.rawValue):\(address)"
                log.warning("uplink command from \(who): write \(table.rawValue) \(address) = \(values) on \(command.device) refused (not in allow_writes)")
                return .failure("writes to \(grant)\(values.count > 1 ? " (\(values.count) values)" : "") are not allowed: add \"\(grant)\" to uplink.commands.allow_writes")
            }
            log.warning("uplink command from \(who): writes \(table.rawValue) \(address) = \(values) on \(command.device)")
            return probe(ModbusProbe(operation: .write, unit: 0, table: table, address: address, count: values.count, values: values), command, config)
        }
    }

    /// A read or write through the worker that owns the device's bus, between its polls.
    private func probe(_ request: ModbusProbe, _ command: RemoteCommand, _ config: VigilConfig) -> RemoteCommandResult {
        guard let device = config.devices.first(where: { $0.id == command.device && $0.enabled }) else {
            return .failure("no Modbus device \"\(command.device)\" (devices: \(config.devices.filter(\.enabled).map(\.id).joined(separator: ", ")))")
        }
        guard let worker = agent.workers.first(where: { $0.bus.id == device.bus }) else { return .failure("bus \(device.bus) is not running") }
        var request = request
        request.unit = device.unit
        let wait = worker.deadlineSeconds + Double(worker.bus.timeoutMs) / 1000
        guard let answer = worker.probe(request, waitSeconds: wait) else {
            return .failure("bus \(device.bus): its worker did not take the request within \(Int(wait)) s")
        }
        if let exception = answer.exception { return .failure("\(command.device) answered exception \(exception)\(answer.error.map { " (\($0))" } ?? "")") }
        if let error = answer.error { return .failure("\(command.device): \(error)") }
        var members = ""
        if let words = answer.words { members += #""values":["# + words.map(String.init).joined(separator: ",") + "],"
        } else if let bits = answer.bits { members += #""values":["# + bits.map { $0 ? "true" : "false" }.joined(separator: ",") + "],"
        }
        members += #""request":"\#(answer.request)","response":"\#(answer.response ?? "")","ms":\#(Int(answer.milliseconds.rounded()))"#
        return .success(members: members)
    }
}

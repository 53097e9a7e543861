import Synchronization
import VigilCore
import VigilGPIO

/// Drives the relays: each output starts in its safe state, follows the
/// action rules as alarms come and go, yields to an operator's override, and
/// goes back to its safe state at an orderly stop. Every switch is an
/// `output_changed` event, so the upstream can see what the site did and why.
///
/// Setting a line is one ioctl that does not block, so it runs on the caller's
/// thread (the journal writer, right after the alarm engine decided).
public final class OutputController: Sendable {
    public struct OutputState: Sendable, Equatable {
        public var id: String
        public var line: String
        public var on: Bool?
        public var safeState: Bool
        public var overridden: Bool
        public var error: String?
    }

    private struct Line {
        var spec: OutputSpec
        var output: (any GPIOOutput)?
        var on: Bool?
        var error: String?
    }

    private struct State {
        var planner: ActionPlanner
        var lines: [Line]
        var overridden: Set<String> = []
    }

    private let state: Mutex<State>
    private let log: Logger?

    /// Requests every output at its safe state. A line that cannot be requested
    /// is logged and reported in `states`; the others work.
    public init(spec: GPIOSpec, backend: any GPIOBackend, log: Logger? = nil) {
        self.log = log
        var lines: [Line] = []
        for output in spec.outputs {
            do {
                let line = try backend.output(output.line, consumer: "vigil", initial: output.safeState)
                lines.append(Line(spec: output, output: line, on: output.safeState))
                log?.info("gpio output \(output.id) on \(output.line): \(output.safeState ? "on" : "off") (its safe state)")
            } catch {
                log?.error("gpio output \(output.id): \(error); its actions cannot be carried out")
                lines.append(Line(spec: output, output: nil, on: nil, error: "\(error)"))
            }
        }
        state = Mutex(State(planner: ActionPlanner(rules: spec.actions, safeStates: spec.safeStates), lines: lines))
    }

    // The alarm engine owns which alarms are active: every call below gets them
    // from the journal sink, under the engine's lock (`JournalSink.changeOutputs`),
    // so an operator's change and a poll's verdict never interleave.

    /// The alarms active now (after the alarm engine ran): returns the switches made.
    public func update(active: [AlarmRule], at time: WallTime) -> [Event] {
        state.withLock { s in apply(&s, active: active, at: time, reason: nil) }
    }

    /// An operator forces an output on or off (nil hands it back to the rules).
    public func override(_ id: String, _ value: Bool?, by who: String, active: [AlarmRule], at time: WallTime) throws(OutputError) -> [Event] {
        try state.withLock { (s: inout State) throws(OutputError) -> [Event] in
            guard s.lines.contains(where: { $0.spec.id == id }) else { throw OutputError.unknown(id, known: s.lines.map(\.spec.id)) }
            s.planner.override(id, value)
            if value == nil { s.overridden.remove(id) } else { s.overridden.insert(id) }
            let reason = value.map { "override to \($0 ? "on" : "off") by \(who)" } ?? "override released by \(who)"
            return apply(&s, active: active, at: time, reason: reason)
        }
    }

    /// Releases the latched actions on an output (after the site is made safe).
    public func resetLatch(_ id: String, by who: String, active: [AlarmRule], at time: WallTime) throws(OutputError) -> [Event] {
        try state.withLock { (s: inout State) throws(OutputError) -> [Event] in
            guard s.lines.contains(where: { $0.spec.id == id }) else { throw OutputError.unknown(id, known: s.lines.map(\.spec.id)) }
            s.planner.resetLatch(id)
            return apply(&s, active: active, at: time, reason: "latch reset by \(who)")
        }
    }

    /// New action rules on reload; overrides carry over.
    public func reconfigure(actions: [ActionRule], active: [AlarmRule], at time: WallTime) -> [Event] {
        state.withLock { s in
            let overrides = s.overridden
            var planner = ActionPlanner(rules: actions, safeStates: s.planner.safeStates)
            for id in overrides { if let line = s.lines.first(where: { $0.spec.id == id }), let on = line.on { planner.override(id, on) } }
            s.planner = planner
            return apply(&s, active: active, at: time, reason: nil)
        }
    }

    /// At an orderly stop: every output to its safe state.
    public func releaseToSafeStates(at time: WallTime) -> [Event] {
        state.withLock { s in
            s.lines.indices.flatMap { i in set(&s.lines[i], s.lines[i].spec.safeState, at: time, reason: "safe state at stop") }
        }
    }

    public var states: [OutputState] {
        state.withLock { s in
            s.lines.map { OutputState(id: $0.spec.id, line: $0.spec.line.description, on: $0.on, safeState: $0.spec.safeState,
                                      overridden: s.overridden.contains($0.spec.id), error: $0.error) }
        }
    }

    private func apply(_ s: inout State, active: [AlarmRule], at time: WallTime, reason: String?) -> [Event] {
        let wanted = s.planner.plan(active: active)
        let rules = s.planner.rules
        return s.lines.indices.flatMap { i -> [Event] in
            let id = s.lines[i].spec.id
            guard let value = wanted[id], value != s.lines[i].on else { return [] }
            let why = reason ?? Self.because(output: id, value: value, rules: rules, active: active)
            return set(&s.lines[i], value, at: time, reason: why)
        }
    }

    private func set(_ line: inout Line, _ value: Bool, at time: WallTime, reason: String) -> [Event] {
        guard let output = line.output, line.on != value else { return [] }
        do {
            try output.set(value)
            line.on = value
            line.error = nil
            let detail = "\(line.spec.id) \(value ? "on" : "off"): \(reason)"
            log?.warning("gpio output \(detail)")
            return [Event(timestamp: time, kind: .outputChanged, device: GPIOSpec.device, detail: detail)]
        } catch {
            line.error = "\(error)"
            log?.error("gpio output \(line.spec.id): \(error)")
            return []
        }
    }

    /// "gas-1 gas highhigh" for the alarms that hold an output; "no alarm holds it" when it returns to its safe state.
    static func because(output: String, value: Bool, rules: [ActionRule], active: [AlarmRule]) -> String {
        let causes = active.filter { alarm in rules.contains { $0.output == output && $0.value == value && $0.matches(alarm) } }
        if causes.isEmpty { return rules.contains { $0.output == output && $0.latch } ? "latched action" : "no alarm holds it: safe state" }
        return causes.map { "\($0.device) \($0.point) \($0.level.rawValue)" }.joined(separator: ", ")
    }
}

public enum OutputError: Error, CustomStringConvertible {
    case unknown(String, known: [String])
    public var description: String {
        switch self {
        case .unknown(let id, let known): "no output \"\(id)\" (outputs: \(known.isEmpty ? "none configured" : known.joined(separator: ", ")))"
        }
    }
}

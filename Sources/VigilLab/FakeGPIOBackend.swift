import Glibc
import Synchronization
import VigilCore
import VigilGPIO
import VigilThreads

/// A GPIO backend with no hardware: tests (and rehearsals) push edges into
/// inputs and read back what outputs were set to. Edge timestamps are on the
/// monotonic clock, as libgpiod's are.
public final class FakeGPIOBackend: GPIOBackend, Sendable {
    private struct State {
        var levels: [String: Bool] = [:]
        var edges: [String: [LineEdge]] = [:]
        var outputs: [String: [Bool]] = [:]
        /// Lines a test made fail to open.
        var broken: Set<String> = []
    }
    private let state = Mutex(State())

    public init() {}

    static func key(_ line: GPIOLine) -> String { "\(line.chip)/\(line.offset)" }

    /// Moves an input to `level` (at `nanos`, default now), as a contact would.
    public func push(_ line: GPIOLine, level: Bool, nanos: Int64 = monotonicNanos()) {
        state.withLock { s in
            s.levels[Self.key(line)] = level
            s.edges[Self.key(line), default: []].append(LineEdge(rising: level, nanos: nanos))
        }
    }

    /// Sets an input's level without an edge (its state before the agent starts).
    public func setLevel(_ line: GPIOLine, _ level: Bool) { state.withLock { $0.levels[Self.key(line)] = level } }

    /// Makes requests for `line` fail, as a line another program holds would.
    public func breakLine(_ line: GPIOLine) { _ = state.withLock { $0.broken.insert(Self.key(line)) } }

    /// Every value an output was set to, in order.
    public func history(_ line: GPIOLine) -> [Bool] { state.withLock { $0.outputs[Self.key(line)] ?? [] } }

    private func checkOpenable(_ line: GPIOLine) throws(GPIOError) {
        if state.withLock({ $0.broken.contains(Self.key(line)) }) { throw GPIOError(line: line.description, message: "cannot request the line: Device or resource busy") }
    }

    public func input(_ line: GPIOLine, consumer: String) throws(GPIOError) -> any GPIOInput {
        try checkOpenable(line)
        return FakeInput(backend: self, key: Self.key(line))
    }

    public func output(_ line: GPIOLine, consumer: String, initial: Bool) throws(GPIOError) -> any GPIOOutput {
        try checkOpenable(line)
        let output = FakeOutput(backend: self, key: Self.key(line))
        try output.set(initial)
        return output
    }

    final class FakeInput: GPIOInput {
        let backend: FakeGPIOBackend
        let key: String
        init(backend: FakeGPIOBackend, key: String) { self.backend = backend; self.key = key }
        func read() throws(GPIOError) -> Bool { backend.state.withLock { $0.levels[key] ?? false } }
        /// Blocks up to `timeoutMs` like the real wait, in 1 ms steps.
        func waitEdges(timeoutMs: Int) throws(GPIOError) -> [LineEdge] {
            let deadline = monotonicNanos() + Int64(timeoutMs) * 1_000_000
            while true {
                let edges = backend.state.withLock { s in defer { s.edges[key] = [] }; return s.edges[key] ?? [] }
                if !edges.isEmpty || monotonicNanos() >= deadline { return edges }
                usleep(1000)
            }
        }
    }

    final class FakeOutput: GPIOOutput {
        let backend: FakeGPIOBackend
        let key: String
        init(backend: FakeGPIOBackend, key: String) { self.backend = backend; self.key = key }
        func set(_ on: Bool) throws(GPIOError) { backend.state.withLock { $0.outputs[key, default: []].append(on) } }
    }
}

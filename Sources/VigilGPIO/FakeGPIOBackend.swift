import Synchronization
import VigilCore

/// A GPIO backend with no hardware: tests (and rehearsals) push edges into
/// inputs and read back what outputs were set to.
public final class FakeGPIOBackend: GPIOBackend, Sendable {
    private let state = Mutex<(levels: [String: Bool], edges: [String: [LineEdge]], outputs: [String: [Bool]])>(([:], [:], [:]))

    public init() {}

    static func key(_ spec: LineSpec) -> String { "\(spec.chip)/\(spec.line)" }

    /// Moves an input to `level` at `nanos`, as a contact would.
    public func push(_ spec: LineSpec, level: Bool, nanos: Int64) {
        state.withLock { s in
            s.levels[Self.key(spec)] = level
            s.edges[Self.key(spec), default: []].append(LineEdge(rising: level, nanos: nanos))
        }
    }

    /// Every value an output was set to, in order.
    public func history(_ spec: LineSpec) -> [Bool] { state.withLock { $0.outputs[Self.key(spec)] ?? [] } }

    public func input(_ spec: LineSpec, consumer: String) throws(GPIOError) -> any GPIOInput { FakeInput(backend: self, key: Self.key(spec)) }

    public func output(_ spec: LineSpec, consumer: String, initial: Bool) throws(GPIOError) -> any GPIOOutput {
        let output = FakeOutput(backend: self, key: Self.key(spec))
        try output.set(initial)
        return output
    }

    final class FakeInput: GPIOInput {
        let backend: FakeGPIOBackend
        let key: String
        init(backend: FakeGPIOBackend, key: String) { self.backend = backend; self.key = key }
        func read() throws(GPIOError) -> Bool { backend.state.withLock { $0.levels[key] ?? false } }
        func waitEdges(timeoutMs: Int) throws(GPIOError) -> [LineEdge] {
            backend.state.withLock { s in defer { s.edges[key] = [] }; return s.edges[key] ?? [] }
        }
    }

    final class FakeOutput: GPIOOutput {
        let backend: FakeGPIOBackend
        let key: String
        init(backend: FakeGPIOBackend, key: String) { self.backend = backend; self.key = key }
        func set(_ on: Bool) throws(GPIOError) { backend.state.withLock { $0.outputs[key, default: []].append(on) } }
    }
}

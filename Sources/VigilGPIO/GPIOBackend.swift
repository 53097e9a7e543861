import VigilCore

public struct GPIOError: Error, Sendable, CustomStringConvertible {
    public var line: String
    public var message: String
    public var description: String { "\(line): \(message)" }
    public init(line: String, message: String) { self.line = line; self.message = message }
}

/// An input line: its level, and its edges with the kernel's timestamps.
public protocol GPIOInput: AnyObject {
    func read() throws(GPIOError) -> Bool
    /// Edges seen within `timeoutMs` (empty on timeout). Blocks: call from a dedicated thread.
    func waitEdges(timeoutMs: Int) throws(GPIOError) -> [LineEdge]
}

/// An output line (a relay, a siren, an LED).
public protocol GPIOOutput: AnyObject {
    func set(_ on: Bool) throws(GPIOError)
}

/// Where lines come from: libgpiod on a gateway, a fake in tests.
public protocol GPIOBackend: Sendable {
    func input(_ spec: GPIOLine, consumer: String) throws(GPIOError) -> any GPIOInput
    func output(_ spec: GPIOLine, consumer: String, initial: Bool) throws(GPIOError) -> any GPIOOutput
}

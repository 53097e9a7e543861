/// Exponential backoff with full jitter (a random delay up to the current
/// cap), from 1 s to 5 minutes; a Retry-After from the server wins when longer.
public struct RetryBackoff: Sendable {
    public static let initialMs: Int64 = 1000
    public static let capMs: Int64 = 300_000
    private var ceilingMs = initialMs

    public init() {}

    public mutating func reset() { ceilingMs = Self.initialMs }

    /// Nanoseconds to wait.
    public mutating func next(serverAskedMs: Int?) -> Int64 {
        let jittered = Int64.random(in: 0...ceilingMs)
        ceilingMs = min(Self.capMs, ceilingMs * 2)
        let ms = max(jittered, Int64(serverAskedMs ?? 0))
        return min(ms, Self.capMs) * 1_000_000
    }
}

/// Tracks whether a device answers, and says when it goes offline or comes back.
public struct DeviceHealth: Sendable {
    public enum State: String, Sendable { case unknown, online, offline }
    public enum Transition: Sendable, Equatable { case cameOnline, wentOffline(reason: String) }

    public let offlineAfter: Int
    public private(set) var state: State = .unknown
    public private(set) var consecutiveFailures = 0
    public private(set) var totalFailures = 0
    public private(set) var lastError: String?

    public init(offlineAfter: Int) { self.offlineAfter = max(1, offlineAfter) }

    /// A poll in which the device answered at least one request (an exception
    /// response is an answer: the device is there).
    public mutating func recordAnswer() -> Transition? {
        consecutiveFailures = 0
        guard state != .online else { return nil }
        state = .online
        return .cameOnline
    }

    /// A poll in which no request got an answer.
    public mutating func recordSilence(reason: String) -> Transition? {
        consecutiveFailures += 1
        totalFailures += 1
        lastError = reason
        guard state != .offline, consecutiveFailures >= offlineAfter else { return nil }
        state = .offline
        return .wentOffline(reason: reason)
    }
}

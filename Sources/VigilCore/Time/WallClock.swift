/// Where a decision against "now" on the wall clock gets the time: the
/// journal's max age, a reading's age, a backlog's age. Injected, so a test
/// sets the time instead of depending on the date it runs.
public protocol WallClock: Sendable {
    func now() -> WallTime
}

/// The system's real-time clock. VigilCore cannot ask the kernel whether it is
/// synchronised, so a reading's `clockSynced` only says the time is plausible;
/// the agent's `SystemClock` asks the kernel and is what stamps readings.
public struct RealtimeClock: WallClock {
    public init() {}
    public func now() -> WallTime { WallTime.now(kernelSynchronised: true) }
}

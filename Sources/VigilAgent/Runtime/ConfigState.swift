import Synchronization
import VigilCore

/// The running agent's one config state (`RunningConfig`), shared by the parts
/// that read it: made first, so the parts built before the daemon is whole can hold it.
public final class ConfigState: Sendable {
    private let running: Mutex<RunningConfig>

    public init(_ config: VigilConfig) { running = Mutex(RunningConfig(config)) }

    /// What runs.
    public var effective: VigilConfig { running.withLock { $0.effective } }
    /// Sections of the file not running yet (they take effect at the next restart).
    public var waitingForRestart: [String] { running.withLock { $0.waitingForRestart } }

    /// Applies a reloaded (valid) config; returns what runs now and what waits for a restart.
    func apply(_ loaded: VigilConfig) -> (effective: VigilConfig, waitingForRestart: [String]) {
        running.withLock { r in
            let effective = r.apply(loaded)
            return (effective, r.waitingForRestart)
        }
    }
}

import Glibc
import VigilCore

/// `state_dir/running`: there while the agent runs, removed on an orderly
/// stop. Found at start, it means the last run ended in a crash, a watchdog
/// reset or a power cut; it holds that run's last known state.
public struct RunMarker: Sendable {
    public let path: String

    public init(stateDirectory: String) { path = "\(stateDirectory)/running" }

    /// What the previous run left, if it did not stop cleanly.
    public func previousUncleanRun() -> String? {
        guard fileExists(path) else { return nil }
        return trimmed((try? readTextFile(path)) ?? "")
    }

    /// Records that this run is under way, with its latest state (durably).
    public func write(_ state: String) throws(FileError) {
        try FileSystem.makeDirectory(directoryName(of: path))
        try FileSystem.replaceAtomically(path, with: Array("\(state)\n".utf8))
    }

    public func remove() throws(FileError) {
        try FileSystem.remove(path)
        try FileSystem.syncDirectory(directoryName(of: path))
    }
}

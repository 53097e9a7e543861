import Foundation
import XCTest

/// A tmpfs of `size` (mount's syntax: "4m") mounted in a new temporary
/// directory and unmounted when `test` ends: a disk that really fills up.
/// Needs root: skipped elsewhere, a failure under CI=true.
public func smallFilesystem(_ size: String, for test: XCTestCase) throws -> String {
    let dir = "\(temporaryDirectory())/small"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let mount = try runCommand("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", dir])
    guard mount.status == 0 else {
        let message = "cannot mount a small tmpfs (needs root): \(mount.stderr)"
        if ProcessInfo.processInfo.environment["CI"] == "true" { throw MissingPeer(description: message) }
        throw XCTSkip(message)
    }
    test.addTeardownBlock { _ = try? runCommand("/bin/umount", ["-l", dir]) }
    return dir
}

import Glibc
import VigilCore

/// Where the shipped Profiles/, Boards/ and Examples/ are: `$VIGIL_SHARE_DIR`,
/// then `<prefix>/share/vigil` beside an installed binary, then the source
/// tree the binary was built in (for `swift build` and the tests).
public enum Resources {
    public static let localProfilesDirectory = "/etc/vigil/profiles"

    public static func shareDirectory() -> String? {
        var candidates: [String] = []
        if let env = getenv("VIGIL_SHARE_DIR") { candidates.append(String(cString: env)) }
        if let exe = executablePath() {
            var dir = directoryName(of: exe)
            candidates.append("\(dir)/../share/vigil")
            for _ in 0..<5 {
                candidates.append(dir)
                dir = directoryName(of: dir)
            }
        }
        return candidates.first { isDirectory("\($0)/Profiles") && isDirectory("\($0)/Examples") }
    }

    /// The installer's own profiles first, then the shipped ones.
    public static func profileLibrary() -> ProfileLibrary {
        var dirs = [localProfilesDirectory]
        if let share = shareDirectory() { dirs.append("\(share)/Profiles") }
        return ProfileLibrary(directories: dirs)
    }

    public static let localBoardsDirectory = "/etc/vigil/boards"

    /// The installer's own boards first, then the shipped ones.
    public static func boardLibrary() -> BoardLibrary {
        var dirs = [localBoardsDirectory]
        if let share = shareDirectory() { dirs.append("\(share)/Boards") }
        return BoardLibrary(directories: dirs)
    }

    public static func example(_ name: String) -> String? {
        shareDirectory().map { "\($0)/Examples/\(name)" }.flatMap { fileExists($0) ? $0 : nil }
    }

    static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

import Glibc
import VigilCore

/// Standard output, unbuffered, so lines from worker threads and the main
/// thread never interleave mid-line.
func say(_ message: String, terminator: String = "\n") {
    writeAll(STDOUT_FILENO, message + terminator)
}

func printError(_ message: String) {
    writeAll(STDERR_FILENO, message.hasSuffix("\n") ? message : message + "\n")
}

enum ExitCode {
    static let ok: Int32 = 0
    static let failed: Int32 = 1
    static let usage: Int32 = 2
}

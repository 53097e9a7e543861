import Glibc
import VigilAgent

/// Standard output, unbuffered, so lines from worker threads and the main
/// thread never interleave mid-line.
func say(_ message: String, terminator: String = "\n") {
    writeAll(STDOUT_FILENO, message + terminator)
}

func printError(_ message: String, newline: Bool = true) {
    writeAll(STDERR_FILENO, !newline || message.hasSuffix("\n") ? message : message + "\n")
}

/// 0 ok, 1 failed, 2 usage or config error, 3 device or communication error.
typealias ExitCode = ControlCode

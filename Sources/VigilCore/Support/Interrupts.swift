import Glibc

/// Calls a system call again for as long as it fails with EINTR (a signal
/// arrived before it did anything) and returns its last result: the project's
/// one EINTR loop. Errors other than EINTR are the caller's to handle.
@inline(__always)
public func retryingInterrupts<Result: BinaryInteger>(_ call: () -> Result) -> Result {
    while true {
        let result = call()
        if result >= 0 || errno != EINTR { return result }
    }
}

import CLinuxShims
import Glibc

/// Start-up runs much code once: the config's parser, the journal's recovery,
/// every device's first connect, the uplink's TLS handshake. Its pages stay
/// mapped, and counted in the agent's resident set, long after. Once start-up
/// is over (the uplink has delivered a batch, or a minute has passed), the agent
/// unmaps every page of its read-only file mappings (code and constants, its
/// own and its libraries') that is still the file's content: the kernel maps
/// again from the page cache the few it touches in steady state. make bench,
/// section 2, measures the difference.
struct StartUpPages {
    private let since: Int64
    private let deliveredBefore: Int

    /// Start-up (or a reload) began at `now`, with `delivered` batches delivered before it.
    init(now: Int64, delivered: Int) {
        since = now
        deliveredBefore = delivered
    }

    /// Over once a batch has been delivered since, or after a minute (an uplink that cannot deliver).
    func isOver(now: Int64, delivered: Int) -> Bool {
        delivered > deliveredBefore || now - since >= 60_000_000_000
    }

    /// Unmaps the pages of read-only file mappings that are still the file's own
    /// content. Returns a line for the log: the KiB released, or why none were.
    static func release() -> String {
        let released = CLinuxShims_release_file_pages()
        if released < 0 { return "start-up pages: /proc/self/smaps: \(String(cString: strerror(Int32(-released))))" }
        return "start-up over: \(released) KiB of code pages unmapped until next needed"
    }
}

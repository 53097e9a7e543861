import Glibc
import Synchronization
import VigilCore

/// JSON Lines on standard output: every record as it comes out of the journal.
public final class StdoutUplink: Uplink {
    public let name = "stdout"
    private let fd: Int32

    public init(fd: Int32 = STDOUT_FILENO) { self.fd = fd }

    public func send(_ batch: UplinkBatch, status: GatewayStatus?) -> UplinkOutcome {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(batch.records.count * 200)
        for stored in batch.records { RecordJSON.append(stored.record, seq: stored.seq, to: &bytes) }
        writeAll(fd, bytes)
        return .delivered
    }

    public func sendHeartbeat(_ status: GatewayStatus) -> UplinkOutcome? { nil }
}

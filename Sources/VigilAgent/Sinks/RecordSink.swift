import Glibc
import Synchronization
import VigilCore

/// Where bus workers hand their records. Called from worker threads.
public protocol RecordSink: Sendable {
    func accept(_ records: [Record])
    /// Several polls' records at once, in order (the record pipeline's batches).
    func accept(batches: [[Record]])
    /// Hands over work that produces records (decoding a poll). A sink may run
    /// it on a thread of its own (`RecordPipeline`); by default it runs here.
    func submit(_ produce: @escaping @Sendable () -> [Record])
}

extension RecordSink {
    public func accept(batches: [[Record]]) { batches.forEach(accept) }
    public func submit(_ produce: @escaping @Sendable () -> [Record]) { accept(produce()) }
}

/// JSON Lines on a file descriptor (standard output by default). Each record
/// gets the next `seq` as it is written, so output order and seq order agree.
public final class JSONLinesSink: RecordSink {
    private let state: Mutex<UInt64>
    private let fd: Int32

    public init(fd: Int32 = STDOUT_FILENO, firstSeq: UInt64 = 1) {
        self.fd = fd
        self.state = Mutex(firstSeq)
    }

    public func accept(_ records: [Record]) { accept(batches: [records]) }

    /// Encodes every batch into one buffer and writes it with one call.
    public func accept(batches: [[Record]]) {
        state.withLock { nextSeq in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(batches.reduce(0) { $0 + $1.count } * 200)
            for records in batches {
                for record in records {
                    RecordJSON.append(record, seq: nextSeq, to: &bytes)
                    nextSeq += 1
                }
            }
            writeAll(fd, bytes)
        }
    }
}

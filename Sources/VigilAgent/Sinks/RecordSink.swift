import Glibc
import Synchronization
import VigilCore

/// Where bus workers hand their records. Called from worker threads.
public protocol RecordSink: Sendable {
    func accept(_ records: [Record])
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

    public func accept(_ records: [Record]) {
        state.withLock { nextSeq in
            var text = ""
            for record in records {
                text += RecordJSON.line(record, seq: nextSeq)
                text += "\n"
                nextSeq += 1
            }
            writeAll(fd, text)
        }
    }
}

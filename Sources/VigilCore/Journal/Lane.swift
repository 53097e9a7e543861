#if canImport(Glibc)
import Glibc
#endif

/// The two lanes: alarms and events go first and are fsynced at once.
public enum JournalLane: String, Sendable, CaseIterable {
    case events, telemetry
}

struct SegmentInfo: Sendable, Equatable {
    var firstSeq: UInt64
    var lastSeq: UInt64
    var records: Int
    var size: Int
    var newestMs: Int64
    var path: String
}

/// One lane's directory of segments; written by the journal's writer only.
final class Lane {
    let name: JournalLane
    let directory: String
    let segmentBytes: Int
    private(set) var segments: [SegmentInfo] = []
    private var current: POSIXFile?
    // Optional only to be moved out into locals while encoding (see `append`).
    private var encoder: RecordEncoder? = RecordEncoder()
    private var buffer: ByteWriter? = ByteWriter()
    /// Of the newest segment: bytes and last seq known to be on disk.
    private(set) var durableSize = 0
    private(set) var durableSeq: UInt64 = 0
    private(set) var bytesWritten: UInt64 = 0
    private let trace: POSIXFile?

    init(name: JournalLane, directory: String, segmentBytes: Int, trace: POSIXFile? = nil) {
        self.name = name
        self.directory = directory
        self.segmentBytes = segmentBytes
        self.trace = trace
    }

    /// Records, for a crash test, what is on disk now (see `JournalOptions.traceFile`).
    private func traceDurable(records: Int) {
        guard let trace, let segment = segments.last else { return }
        try? trace.write(Array("\(name.rawValue) \(segment.path) \(durableSize) \(durableSeq) \(records)\n".utf8))
    }

    private var bufferedBytes: Int { buffer?.count ?? 0 }
    /// Encoded but not yet handed to the kernel: what a refusing disk leaves in memory.
    var unwrittenBytes: Int { bufferedBytes }
    var totalBytes: Int { segments.reduce(0) { $0 + $1.size } + bufferedBytes }
    var hasUnsyncedRecords: Bool { bufferedBytes > 0 || (segments.last.map { $0.size > durableSize } ?? false) }
    var lastSeq: UInt64 { segments.last?.lastSeq ?? 0 }

    // MARK: Recovery

    /// Reads what is on disk, repairs it, and reports. Recovered segments are
    /// never appended to: the first new record starts a new segment.
    func recover(corruptDirectory: String, report: inout JournalRecoveryReport) {
        let names = directoryEntries(directory).filter { $0.hasSuffix(".seg") || $0.hasSuffix(".tmp") }.sorted()
        for name in names {
            let path = "\(directory)/\(name)"
            guard let firstSeq = JournalFormat.firstSeq(ofSegmentNamed: name) else {
                moveAside(path, to: corruptDirectory, report: &report, reason: "not a segment name")
                continue
            }
            if let previous = segments.last, firstSeq <= previous.lastSeq {
                moveAside(path, to: corruptDirectory, report: &report, reason: "overlaps the segment before it")
                continue
            }
            do throws(FileError) {
                if let info = try recoverSegment(path: path, firstSeq: firstSeq, report: &report) { segments.append(info) }
            } catch {
                moveAside(path, to: corruptDirectory, report: &report, reason: error.description)
            }
        }
        durableSize = segments.last?.size ?? 0
        durableSeq = lastSeq
    }

    /// On a read-only disk (failing flash) a segment is read as it is: its repairs wait for a start that can write.
    private func recoverSegment(path: String, firstSeq: UInt64, report: inout JournalRecoveryReport) throws(FileError) -> SegmentInfo? {
        var writable = true
        let file: POSIXFile
        do throws(FileError) { file = try POSIXFile(path: path, flags: O_RDWR) } catch {
            guard error.errno == EROFS else { throw error }
            file = try POSIXFile(path: path, flags: O_RDONLY)
            writable = false
        }
        let size = try file.size()
        if size < JournalFormat.segmentHeaderSize {
            // Created, then a power cut before its header reached the disk.
            if writable { try FileSystem.remove(path) }
            report.truncatedBytes += UInt64(size)
            return nil
        }
        var header = [UInt8]()
        _ = try file.read(at: 0, count: JournalFormat.segmentHeaderSize, into: &header)
        let headerSeq: UInt64 = header.withUnsafeBytes { JournalFormat.readLE($0, at: 8) }
        guard Array(header[0..<8]) == JournalFormat.magic, headerSeq == firstSeq else {
            throw FileError(operation: "bad segment header", path: path, errno: EINVAL)
        }
        var info = SegmentInfo(firstSeq: firstSeq, lastSeq: 0, records: 0, size: size, newestMs: 0, path: path)
        var scanner = SegmentScanner(file: file, limit: size)
        scanning: while true {
            var newestMs: Int64 = 0
            switch try scanner.next(after: info.lastSeq, visit: { seq, body in
                if seq != 0 { newestMs = Self.timestamp(of: body) ?? 0 }
            }) {
            case .frame(let seq):
                if seq != 0 {
                    info.lastSeq = seq
                    info.records += 1
                    info.newestMs = max(info.newestMs, newestMs)
                }
            case .skippedCorrupt(_, let dictionaryEntry):
                // A damaged dictionary copy loses nothing while its twin holds; when
                // both are gone, the forwarder counts each record that names the string.
                if !dictionaryEntry { report.corruptRecords += 1 }
            case .tornTail(let at):
                if writable {
                    try file.truncate(to: at)
                    try file.dataSync()
                }
                report.truncatedBytes += UInt64(size - at)
                info.size = at
                break scanning
            case .end:
                break scanning
            }
        }
        if info.records == 0 {
            if writable { try FileSystem.remove(path) }
            return nil
        }
        // What survived a kill may still sit only in the page cache: make it
        // durable before any of it counts as accepted or is sent.
        if writable { try file.dataSync() }
        report.records += UInt64(info.records)
        return info
    }

    /// The records whose frames are intact in a file, whatever its header says.
    static func countRecords(_ path: String) -> UInt64 {
        guard let file = try? POSIXFile(path: path, flags: O_RDONLY), let size = try? file.size() else { return 0 }
        var scanner = SegmentScanner(file: file, limit: size)
        var count: UInt64 = 0, last: UInt64 = 0
        while let step = try? scanner.next(after: last, visit: { _, _ in }) {
            switch step {
            case .frame(let seq): if seq != 0 { count += 1; last = seq }
            case .skippedCorrupt(_, let dictionaryEntry): if !dictionaryEntry { count += 1 }
            case .tornTail, .end: return count
            }
        }
        return count
    }

    /// The wall time of a reading or event body (its second field).
    static func timestamp(of body: UnsafeRawBufferPointer) -> Int64? {
        var reader = ByteReader(bytes: body)
        guard let kind = try? reader.byte(), kind != RecordKind.dictionary.rawValue, let ms = try? reader.varint() else { return nil }
        return Int64(bitPattern: ms)
    }

    private func moveAside(_ path: String, to corruptDirectory: String, report: inout JournalRecoveryReport, reason: String) {
        let target = "\(corruptDirectory)/\(name.rawValue)-\(baseName(of: path))"
        // Its records are lost to the upstream: counted, as many as its frames say (at least one).
        report.corruptRecords += max(1, Self.countRecords(path))
        do throws(FileError) {
            try FileSystem.makeDirectory(corruptDirectory)
            try FileSystem.rename(path, to: target)
            report.movedAside.append("\(path): \(reason); moved to \(target)")
        } catch {
            report.movedAside.append("\(path): \(reason); could not move it aside: \(error)")
        }
    }

    // MARK: Writing

    /// Encodes `records` (seqs from `firstSeq` on) into the buffer, starting a
    /// new segment whenever the current one is full. The encoder and buffer
    /// are moved into locals between segment starts: per record, no property
    /// access (a class's stored property is checked for exclusive access).
    ///
    /// Throws only when there is no segment to encode into and none can be
    /// started (nothing of `records` is taken then). A segment that cannot be
    /// rotated (a full disk) grows past `segmentBytes` until one can.
    func append(_ records: ArraySlice<Record>, firstSeq: UInt64) throws(FileError) {
        var seq = firstSeq
        var i = records.startIndex
        while i < records.endIndex {
            var rotationFailed = false
            if current == nil || (segments.last!.size + bufferedBytes >= segmentBytes) {
                do throws(FileError) { try startSegment(firstSeq: seq) } catch {
                    if current == nil { throw error }
                    rotationFailed = true
                }
            }
            var encoder = self.encoder.take()!, buffer = self.buffer.take()!
            let room = rotationFailed ? Int.max : segmentBytes - segments.last!.size
            let before = buffer.count
            var count = 0, newest = segments.last!.newestMs
            // Elements through the buffer's address: borrowed, where the array's subscript copies.
            records.withUnsafeBufferPointer { elements in
                let offset = records.startIndex
                while i < records.endIndex && buffer.count < room {
                    newest = max(newest, encoder.appendFrames(elements[i - offset], seq: seq, to: &buffer))
                    seq += 1
                    count += 1
                    i += 1
                }
            }
            bytesWritten += UInt64(buffer.count - before)
            self.encoder = encoder
            self.buffer = consume buffer
            segments[segments.count - 1].lastSeq = seq - 1
            segments[segments.count - 1].records += count
            segments[segments.count - 1].newestMs = newest
        }
    }

    /// Starts a segment now unless one is open (seqs from `firstSeq` on go in it).
    func openSegment(firstSeq: UInt64) throws(FileError) {
        if current == nil { try startSegment(firstSeq: firstSeq) }
    }

    /// Hands what is buffered to the kernel (no fsync: not yet accepted).
    ///
    /// A write that fails (a full disk) may have written part of the bytes: the
    /// file is cut back to its size before, and the buffer kept whole for the
    /// next try, so no frame is ever half on disk or written twice.
    func writeBuffered() throws(FileError) {
        guard let current, let bytes = buffer?.bytes, !bytes.isEmpty else { return }
        do throws(FileError) { try current.write(bytes) } catch {
            try? current.truncate(to: segments[segments.count - 1].size)
            throw error
        }
        segments[segments.count - 1].size += bytes.count
        buffer?.removeAll()
    }

    /// What one fsync of the newest segment will make durable: taken under the
    /// journal's lock, fsynced outside it (so appends go on meanwhile), then
    /// marked with `markDurable`.
    struct SyncPoint: Sendable {
        /// Holding it keeps the fd open should the segment rotate meanwhile.
        let file: POSIXFile
        let segmentFirstSeq: UInt64
        let size: Int
        let lastSeq: UInt64
        /// The lane's record count at this point (for the crash-test trace).
        let records: Int
    }

    /// Hands what is buffered to the kernel and says what an fsync now would make durable.
    func syncPoint() throws(FileError) -> SyncPoint? {
        guard let current, let segment = segments.last else { return nil }
        try writeBuffered()
        return SyncPoint(file: current, segmentFirstSeq: segment.firstSeq, size: segments[segments.count - 1].size,
                         lastSeq: segments[segments.count - 1].lastSeq, records: segments.reduce(0) { $0 + $1.records })
    }

    /// After the fsync of `point`: its records count as accepted. A point of a
    /// segment since rotated is already durable (a rotation fsyncs).
    func markDurable(_ point: SyncPoint) {
        guard segments.last?.firstSeq == point.segmentFirstSeq, point.size > durableSize else { return }
        durableSize = point.size
        durableSeq = point.lastSeq
        traceDurable(records: point.records)
    }

    /// Writes what is buffered and fsyncs it, all under the caller's lock.
    func sync() throws(FileError) {
        guard let point = try syncPoint() else { return }
        try point.file.dataSync()
        markDurable(point)
    }

    private func startSegment(firstSeq: UInt64) throws(FileError) {
        if current != nil { try sync() }
        let path = "\(directory)/\(JournalFormat.segmentName(firstSeq: firstSeq))"
        let file = try POSIXFile(path: path, flags: O_WRONLY | O_CREAT | O_EXCL | O_APPEND)
        do throws(FileError) {
            try file.write(JournalFormat.segmentHeader(firstSeq: firstSeq))
            try file.dataSync()
            try FileSystem.syncDirectory(directory)
        } catch {
            try? FileSystem.remove(path) // a full disk: no half-made segment left behind
            throw error
        }
        current = file
        encoder?.reset()
        segments.append(SegmentInfo(firstSeq: firstSeq, lastSeq: 0, records: 0, size: JournalFormat.segmentHeaderSize, newestMs: 0, path: path))
        durableSize = JournalFormat.segmentHeaderSize
        bytesWritten += UInt64(JournalFormat.segmentHeaderSize)
        traceDurable(records: segments.reduce(0) { $0 + $1.records })
    }

    // MARK: Deleting

    /// Deletes segments whose every record is acknowledged (never the one being written).
    func wouldDeleteAcknowledged(through acked: UInt64) -> Bool {
        segments.count > (current == nil ? 0 : 1) && segments.first.map { $0.lastSeq <= acked } == true
    }

    func deleteAcknowledged(through acked: UInt64) {
        while segments.count > (current == nil ? 0 : 1), let oldest = segments.first, oldest.lastSeq <= acked {
            try? FileSystem.remove(oldest.path)
            segments.removeFirst()
        }
    }

    /// Deletes the oldest segment (never the one being written); returns how
    /// many of its records were not acknowledged, or nil when there is none to drop.
    func dropOldest(unacknowledgedAfter acked: UInt64) -> UInt64? {
        guard segments.count > (current == nil ? 0 : 1) else { return nil }
        let oldest = segments.removeFirst()
        var lost = UInt64(oldest.records)
        if oldest.lastSeq <= acked {
            lost = 0
        } else if oldest.firstSeq <= acked, let file = try? POSIXFile(path: oldest.path, flags: O_RDONLY) {
            // Partly acknowledged: count exactly (the lanes' seqs interleave).
            lost = 0
            var scanner = SegmentScanner(file: file, limit: oldest.size)
            var last: UInt64 = 0
            while case .some(let step) = try? scanner.next(after: last, visit: { _, _ in }) {
                if case .frame(let seq) = step, seq != 0 { last = seq; if seq > acked { lost += 1 } }
                if case .end = step { break }
                if case .tornTail = step { break }
            }
        }
        try? FileSystem.remove(oldest.path)
        return lost
    }

    /// What a reader may read: every segment, the newest only up to its last fsync.
    func readableSegments() -> [(info: SegmentInfo, limit: Int)] {
        segments.enumerated().map { i, info in
            (info, i == segments.count - 1 && current != nil ? durableSize : info.size)
        }
    }

    func close() {
        current = nil
    }
}

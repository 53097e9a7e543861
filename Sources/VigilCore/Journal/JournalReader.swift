#if canImport(Glibc)
import Glibc
#endif

/// A record read back from the journal.
public struct StoredRecord: Sendable, Equatable {
    public var seq: UInt64
    public var record: Record
    public init(seq: UInt64, record: Record) { self.seq = seq; self.record = record }
}

/// Streams one lane's fsynced records from disk, in seq order, for the
/// forwarder. It holds one segment open and a window of it, so memory does
/// not depend on the backlog. Used by one thread.
public final class JournalReader {
    public let journal: Journal
    public let lane: JournalLane
    private var segmentFirstSeq: UInt64?
    private var scanner: SegmentScanner?
    private var decoder = RecordDecoder()
    /// The last seq this reader passed, to continue without rescanning.
    private var position: UInt64 = 0
    /// Times the reader found its place again: the segment holding it opened and scanned from its start.
    public private(set) var seeks = 0
    /// Frames that could not be read or decoded (counted, skipped).
    public private(set) var skippedRecords: UInt64 = 0
    /// The seqs, in the last `read`, of records whose frame was intact but that
    /// could not be decoded (a string they name was in a damaged dictionary
    /// frame): recovery, which does not decode, cannot have counted them.
    public private(set) var undecodableSeqs: [UInt64] = []

    public init(journal: Journal, lane: JournalLane) {
        self.journal = journal
        self.lane = lane
    }

    /// Up to `maxRecords` fsynced records with seq above `after` (and at most
    /// `through`), in order.
    public func read(after: UInt64, through: UInt64 = .max, maxRecords: Int) throws(FileError) -> [StoredRecord] {
        var out: [StoredRecord] = []
        undecodableSeqs.removeAll()
        let segments = journal.readableSegments(lane)
        if needsSeek(after: after, in: segments) { try seek(after: after, in: segments) }
        while out.count < maxRecords, scanner != nil {
            var produced: StoredRecord?
            var failedDecode = false
            let before = scanner
            let step = try scanner!.next(after: position) { seq, body in
                // Records passed over still need no decoding; dictionary entries always do.
                if seq != 0 && (seq <= after || seq > through) { return }
                do throws(RecordDecodeError) {
                    if let record = try decoder.decode(body), seq != 0 { produced = StoredRecord(seq: seq, record: record) }
                } catch {
                    failedDecode = seq != 0
                }
            }
            switch step {
            case .frame(let seq):
                if seq == 0 { continue }
                if seq > through {
                    scanner = before // leave that record for the next read
                    return out
                }
                position = seq
                if failedDecode { skippedRecords += 1; undecodableSeqs.append(seq); continue }
                if let produced, seq > after { out.append(produced) }
            case .skippedCorrupt(_, let dictionaryEntry):
                if !dictionaryEntry { skippedRecords += 1 }
            case .tornTail:
                // Damage inside what was fsynced (the disk itself): skip the rest of this segment.
                skippedRecords += 1
                if try !advance(in: journal.readableSegments(lane), allowSameSegment: false) { return out }
            case .end:
                if try !advance(in: journal.readableSegments(lane), allowSameSegment: true) { return out }
            }
        }
        return out
    }

    /// The first record above `after`, leaving the reader where it was, so the
    /// next `read(after:)` from there goes on without rescanning its segment.
    public func peek(after: UInt64) throws(FileError) -> StoredRecord? {
        try tentatively({ () throws(FileError) -> StoredRecord? in try read(after: after, maxRecords: 1).first }, keep: { _ in false })
    }

    /// Exactly `count` records above `after`, or nil, leaving the reader where it was
    /// when there are fewer (a full batch that is not there yet).
    public func read(after: UInt64, exactly count: Int) throws(FileError) -> [StoredRecord]? {
        let records = try tentatively({ () throws(FileError) -> [StoredRecord] in try read(after: after, maxRecords: count) }, keep: { $0.count == count })
        return records.count == count ? records : nil
    }

    /// Runs `body`, then puts the reader back where it was unless `keep` says otherwise.
    private func tentatively<T>(_ body: () throws(FileError) -> T, keep: (T) -> Bool) throws(FileError) -> T {
        // The decoder too: a read that went on into the next segment reset its dictionary.
        let saved = (scanner, position, segmentFirstSeq, decoder)
        let result = try body()
        if !keep(result) { (scanner, position, segmentFirstSeq, decoder) = saved }
        return result
    }

    /// Whether `after` needs the segment that holds it opened again and scanned from
    /// its start. Not when the reader stands at it, nor when `after` lies ahead in
    /// the open segment: scanning on passes the records between undecoded. (A
    /// rescan on every read, as after an acknowledgement, was most of the
    /// forwarder's CPU with 100 devices polled every second.)
    private func needsSeek(after: UInt64, in segments: [(info: SegmentInfo, limit: Int)]) -> Bool {
        guard scanner != nil, let current = segmentFirstSeq, segments.contains(where: { $0.info.firstSeq == current }) else { return true }
        if position == after { return false }
        if position > after { return true }
        let holding = segments.last { $0.info.firstSeq <= after + 1 }
        return holding?.info.firstSeq != current
    }

    /// Positions at the first record above `after`.
    private func seek(after: UInt64, in segments: [(info: SegmentInfo, limit: Int)]) throws(FileError) {
        seeks += 1
        scanner = nil
        segmentFirstSeq = nil
        position = after
        // The segment that holds the seq after `after`: the last one starting at or below it.
        guard let index = segments.lastIndex(where: { $0.info.firstSeq <= after + 1 }) ?? (segments.isEmpty ? nil : 0) else { return }
        try open(segments[index])
    }

    private func open(_ segment: (info: SegmentInfo, limit: Int)) throws(FileError) {
        let file = try POSIXFile(path: segment.info.path, flags: O_RDONLY)
        scanner = SegmentScanner(file: file, limit: segment.limit)
        segmentFirstSeq = segment.info.firstSeq
        decoder.reset()
    }

    /// At the end of what was readable: goes on in the same segment if it grew,
    /// else in the next one. Returns false when there is nothing more yet.
    private func advance(in segments: [(info: SegmentInfo, limit: Int)], allowSameSegment: Bool) throws(FileError) -> Bool {
        guard let current = scanner, let first = segmentFirstSeq else { return false }
        if allowSameSegment, let same = segments.first(where: { $0.info.firstSeq == first }), same.limit > current.offset {
            scanner = SegmentScanner(file: current.file, limit: same.limit, offset: current.offset)
            return true
        }
        guard let next = segments.first(where: { $0.info.firstSeq > first }) else { return false }
        try open(next)
        return true
    }
}

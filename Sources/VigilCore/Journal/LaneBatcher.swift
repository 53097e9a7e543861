/// Forms a lane's batches from the journal and takes their acknowledgement,
/// for any transport. The rule that makes a resent batch identical — so an
/// upstream deduplicating by batch id sees the same batch after a crash:
/// a full batch is the next `fullSize` records after the acknowledgement, so
/// it forms again by itself; a short one (cut by the journal's end, or by a
/// size the upstream asked for) is remembered in the cursor as in flight, and
/// resent whole under its id. Used from the forwarder's thread only.
public final class LaneBatcher {
    public let lane: JournalLane
    private let journal: Journal
    private let reader: JournalReader
    private let gateway: String
    private let maxRecords: Int
    /// Records in a full batch: `maxRecords`, or fewer to keep about `maxBytes` of JSON (~200 bytes a record).
    public let fullSize: Int
    /// The highest seq of an undecodable record already counted (a batch may be read again).
    private var countedUndecodable: UInt64 = 0
    /// How often its reader found its place again by scanning a segment from its start.
    public var readerSeeks: Int { reader.seeks }
    /// The time of the first record not yet acknowledged, as last read; nil when nothing waits.
    public private(set) var oldestPendingMs: Int64?
    /// An acknowledgement moved the oldest on since the last read.
    private var oldestIsStale = false

    public init(journal: Journal, lane: JournalLane, gateway: String, maxRecords: Int, maxBytes: Int) {
        self.journal = journal
        self.lane = lane
        self.gateway = gateway
        self.maxRecords = maxRecords
        self.fullSize = min(maxRecords, max(1, maxBytes / 200))
        reader = JournalReader(journal: journal, lane: lane)
    }

    /// The next batch: the one in flight when the agent stopped, else the
    /// records after the acknowledgement; nil when there is none, or when
    /// `requireFull` and there is not yet a full batch. `sizeCap`: at most this
    /// many records (the upstream answered "too large"); an in-flight batch
    /// larger than that is formed again, smaller, under a new id — the
    /// upstream took none of it.
    public func next(requireFull: Bool, sizeCap: Int? = nil) throws(FileError) -> UplinkBatch? {
        let cursor = journal.cursor
        let acked = cursor.acked[lane] ?? 0
        var inFlight = cursor.inFlight[lane].flatMap { $0.lowerBound > acked ? $0 : nil }
        let size = min(fullSize, sizeCap ?? fullSize)
        var records: [StoredRecord]
        if requireFull && inFlight == nil {
            // The forwarder asks at every commit: while fewer than a full batch wait, it learns so without
            // reading and decoding them all again (after an acknowledgement, the first one alone: the oldest).
            // `pending` also counts records not yet fsynced, which a read does not see: a read that finds
            // fewer than a full batch leaves the reader where it was. (Left standing past the
            // acknowledgement, the reader scanned the segment from its start at the next read: with 100
            // devices polled every second, up to 60 times the records read, growing with the segment.)
            let full = journal.pending(lane) < UInt64(size) ? nil : try reader.read(after: acked, exactly: size)
            guard let full else {
                countUndecodable()
                if oldestIsStale { try readOldest(after: acked) }
                return nil
            }
            records = full
        } else {
            records = try reader.read(after: acked, through: inFlight?.upperBound ?? .max, maxRecords: maxRecords)
        }
        countUndecodable()
        oldestPendingMs = records.first?.record.timestamp.milliseconds
        oldestIsStale = false
        if records.isEmpty && inFlight == nil && lane == .events { return eventsNotOnDisk(after: acked, size: size) }
        if records.isEmpty { return nil }
        if let cap = sizeCap, inFlight != nil, records.count > cap { inFlight = nil }
        if let inFlight {
            return UplinkBatch(gateway: gateway, lane: lane, firstSeq: inFlight.lowerBound, lastSeq: inFlight.upperBound, records: records)
        }
        if records.count > size { records.removeLast(records.count - size) }
        let batch = UplinkBatch(gateway: gateway, lane: lane, firstSeq: records.first!.seq, lastSeq: records.last!.seq, records: records)
        if records.count < fullSize { try journal.markInFlight(lane, batch.firstSeq...batch.lastSeq) }
        return batch
    }

    /// The full batch after `previous` (itself full), to send before `previous` is
    /// acknowledged (`Uplink.batchesInFlight`); nil when there is not a full one.
    /// Not marked in flight: a full batch forms again by itself after a crash,
    /// since the acknowledgements come in order.
    public func following(_ previous: UplinkBatch) throws(FileError) -> UplinkBatch? {
        let records = try reader.read(after: previous.lastSeq, exactly: fullSize)
        countUndecodable()
        guard let records, let first = records.first, let last = records.last else { return nil }
        return UplinkBatch(gateway: gateway, lane: lane, firstSeq: first.seq, lastSeq: last.seq, records: records)
    }

    /// Alarms the disk refuses go upstream from memory, once their seqs are reserved (the disk
    /// may refuse that too: then they wait). Not marked in flight: a crash takes these records
    /// with the memory that held them, so there is no batch to form again.
    private func eventsNotOnDisk(after acked: UInt64, size: Int) -> UplinkBatch? {
        let records = journal.eventsNotOnDisk(after: acked, maxRecords: size)
        guard let first = records.first, let last = records.last, (try? journal.reserveSeqs(through: last.seq)) != nil else { return nil }
        oldestPendingMs = first.record.timestamp.milliseconds
        return UplinkBatch(gateway: gateway, lane: lane, firstSeq: first.seq, lastSeq: last.seq, records: records)
    }

    /// The upstream took `batch` (or it was set aside): the journal may forget it.
    public func acknowledge(_ batch: UplinkBatch) throws(FileError) {
        try journal.acknowledge(lane, through: batch.lastSeq)
        oldestIsStale = true
    }

    private func readOldest(after acked: UInt64) throws(FileError) {
        oldestPendingMs = try reader.peek(after: acked)?.record.timestamp.milliseconds
        countUndecodable()
        oldestIsStale = false
    }

    /// Records lost to a damaged dictionary entry: counted in the journal once each, so reported upstream.
    private func countUndecodable() {
        let new = reader.undecodableSeqs.filter { $0 > countedUndecodable }
        if let last = new.last { countedUndecodable = last }
        journal.countCorrupt(UInt64(new.count))
    }
}

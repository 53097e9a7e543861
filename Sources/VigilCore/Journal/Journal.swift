#if canImport(Glibc)
import Glibc
#endif
import Synchronization

public struct JournalOptions: Sendable, Equatable {
    /// Everything on disk, both lanes.
    public var maxBytes: Int = 256 * 1024 * 1024
    /// Telemetry older than this is dropped (counted); nil keeps it until the quota.
    public var maxAgeSeconds: Int?
    /// Group commit: telemetry is fsynced at most this long after it was appended.
    public var commitMs: Int = 200
    public var segmentBytes: Int = 4 * 1024 * 1024
    /// Encoded readings held in memory while the disk refuses writes; beyond
    /// this, new readings are dropped (counted). Events are always held.
    public var maxUnwrittenBytes: Int = 4 * 1024 * 1024
    /// An acknowledgement is fsynced at most this long after it was written (at once when
    /// a segment goes): a power cut may have that long of delivered batches sent again.
    public var cursorSyncMs: Int = 1000
    /// Test hook (`VIGIL_JOURNAL_TRACE`): after every fsync of a segment, a
    /// line `lane path size durable_seq records` is appended here, and after
    /// every fsync of the cursor `cursor path slot`, so a crash test knows what
    /// was accepted and can cut files back as a power cut would.
    public var traceFile: String?

    public init() {}

    /// Space kept for events that telemetry may not take.
    public var eventReserve: Int { max(maxBytes / 10, 2 * segmentBytes) }
}

public struct JournalRecoveryReport: Sendable, Equatable {
    /// Records found intact.
    public var records: UInt64 = 0
    /// Frames skipped in the middle of a segment (CRC or length wrong).
    public var corruptRecords: UInt64 = 0
    /// Bytes of torn tails cut off.
    public var truncatedBytes: UInt64 = 0
    /// Files moved to `corrupt/`, with why.
    public var movedAside: [String] = []
    /// The cursor was missing or unreadable (everything unacknowledged is resent).
    public var cursorProblem: String?

    /// Nothing was repaired: no torn tail, no corrupt frame, no file set aside, the cursor read.
    public var isClean: Bool { truncatedBytes == 0 && corruptRecords == 0 && movedAside.isEmpty && cursorProblem == nil }

    /// One line for the log (and, when something was repaired, the journal_recovered event):
    /// a clean open reads as one, a repair names every loss.
    public var summary: String {
        guard !isClean else { return "opened, \(records) records on disk, nothing damaged" }
        var parts = ["repaired: \(records) records intact"]
        if truncatedBytes > 0 { parts.append("\(truncatedBytes) bytes of torn tail cut off") }
        if corruptRecords > 0 { parts.append("\(corruptRecords) corrupt records skipped") }
        if !movedAside.isEmpty { parts.append("\(movedAside.count) files moved aside: \(movedAside.joined(separator: "; "))") }
        if let cursorProblem { parts.append("cursor: \(cursorProblem)") }
        return parts.joined(separator: ", ")
    }
}

public struct JournalStats: Sendable, Equatable {
    public var bytes: Int
    public var pending: [JournalLane: UInt64]
    public var acked: [JournalLane: UInt64]
    public var dropped: [JournalLane: UInt64]
    public var corruptRecords: UInt64
    public var lastSeq: UInt64
    /// Bytes handed to the disk since start, frames and headers included.
    public var bytesWritten: UInt64
}

/// The crash-safe journal (format and invariants: `JournalFormat`). One
/// writer thread appends; a committer may fsync from another while the writer
/// goes on; a forwarder thread reads and acknowledges.
public final class Journal: Sendable {
    public let directory: String
    public let options: JournalOptions
    public let recovery: JournalRecoveryReport
    /// For `maxAgeSeconds`: how old telemetry is, on the wall clock its records carry.
    let clock: any WallClock

    private struct State {
        var lanes: [JournalLane: Lane]
        var cursor: JournalCursor
        var nextSeq: UInt64
        var telemetryUnsyncedSince: Int64?
        var writeError: String?
        /// Events no segment could take yet (the disk refused the events lane a new segment),
        /// with their seqs, in order: the first append or commit that can start one writes them.
        var heldEvents: [(firstSeq: UInt64, records: ArraySlice<Record>)] = []
        /// Every event taken and not yet fsynced (held, or written but not synced), with its seq, oldest
        /// first: while the disk refuses them they go upstream from here (`eventsNotOnDisk`).
        var eventsNotOnDisk: [StoredRecord] = []
        /// The cursor in memory has news the file lacks (a drop counted; a write the disk refused
        /// at start): the append or commit that made it, or the next the disk takes, writes it.
        var cursorOwed = false
    }
    private let state: Mutex<State>
    /// The cursor file, one writer at a time: the forwarder (acks) and the writer (drops) both update it.
    private let cursorFile: Mutex<CursorFile>

    /// Opens (creating if needed) and recovers the journal. Only a directory
    /// that cannot be created is an error; bad content is repaired and reported
    /// in `recovery`, and what the disk refuses waits in memory (see `take`).
    public init(directory: String, options: JournalOptions = JournalOptions(), clock: any WallClock = RealtimeClock()) throws(FileError) {
        self.directory = directory
        self.options = options
        self.clock = clock
        let corrupt = "\(directory)/corrupt"
        var report = JournalRecoveryReport()
        var lanes: [JournalLane: Lane] = [:]
        let trace = try options.traceFile.map { (path) throws(FileError) in try POSIXFile(path: path, flags: O_WRONLY | O_CREAT | O_APPEND) }
        for lane in JournalLane.allCases {
            let dir = "\(directory)/\(lane.rawValue)"
            try FileSystem.makeDirectory(dir)
            let l = Lane(name: lane, directory: dir, segmentBytes: options.segmentBytes, trace: trace)
            l.recover(corruptDirectory: corrupt, report: &report)
            lanes[lane] = l
        }
        var cursor = JournalCursor()
        let cursorFile = CursorFile(path: "\(directory)/cursor", trace: trace)
        if cursorFile.exists {
            switch cursorFile.load() {
            case .success(let loaded): cursor = loaded
            case .failure(let error):
                report.cursorProblem = "unreadable (\(error)); every record still in the journal will be sent again"
                // Kept for a look unless the disk refuses (then the next cursor write replaces it).
                if (try? FileSystem.makeDirectory(corrupt)) != nil { cursorFile.moveAside(to: "\(corrupt)/cursor") }
            }
        } else if lanes.values.contains(where: { !$0.segments.isEmpty }) {
            report.cursorProblem = "missing; every record still in the journal will be sent again"
        }
        cursor.corruptRecords += report.corruptRecords
        let highest = max(cursor.seqFloor, lanes.values.map(\.lastSeq).max() ?? 0, cursor.acked.values.max() ?? 0)
        // Safe to delete by: CursorFile.load fsyncs the cursor it read (a crash may have left it unsynced).
        for (name, lane) in lanes { lane.deleteAcknowledged(through: cursor.acked[name] ?? 0) }
        self.recovery = report
        // Both lanes keep a segment open from the start: an alarm or a reading on a disk
        // that has filled up since is held in memory, never refused for want of a file.
        for lane in lanes.values { try? lane.openSegment(firstSeq: highest + 1) }
        let cursorMissing = !cursorFile.exists
        self.cursorFile = Mutex(cursorFile)
        self.state = Mutex(State(lanes: lanes, cursor: cursor, nextSeq: highest + 1, telemetryUnsyncedSince: nil, writeError: nil))
        // A new journal gets its cursor at once, so a missing one later means damage.
        if report.corruptRecords > 0 || report.cursorProblem != nil || cursorMissing {
            // A disk that refuses it (full, read-only, failing) is no reason not to start:
            // alarms come first, and the cursor is written by the first commit the disk takes.
            do throws(FileError) { try writeCursor() } catch {
                state.withLock { s in s.writeError = "\(error)" } // and the cursor is owed (writeCursor)
            }
        }
    }

    // MARK: Writer side

    /// Gives each record the next seq and writes it. Events are fsynced before
    /// this returns; telemetry only by a commit, which is the caller's to
    /// arrange by `nextCommitDeadline` — in the agent a thread of its own
    /// (`JournalCommitter`) does it, while the writer goes on.
    /// Returns the seqs given, in order; throws when the disk refused the
    /// write (the records are taken all the same: see `take`).
    @discardableResult
    public func append(_ records: [Record]) throws(FileError) -> ClosedRange<UInt64>? {
        let taken = take(records)
        if let error = taken.writeError { throw error }
        return taken.seqs
    }

    /// `append` for a writer that goes on whatever the disk does (the agent):
    /// every record gets a seq; a write the disk refuses (a full disk) leaves
    /// the records encoded in memory, written by the next append or commit
    /// that succeeds, and comes back as `writeError`. On ENOSPC the oldest
    /// telemetry is dropped to make room, as the quota does. Readings beyond
    /// `options.maxUnwrittenBytes` in memory, and readings no segment could
    /// take, are not kept: counted as dropped, like every other loss. Events
    /// no segment could take are held in memory until one can start.
    public func take(_ records: [Record]) -> (seqs: ClosedRange<UInt64>?, writeError: FileError?) {
        guard !records.isEmpty else { return (nil, nil) }
        let now = monotonicNanos()
        var (range, syncEvents, failure) = state.withLock { s -> (ClosedRange<UInt64>, Bool, FileError?) in
            let first = s.nextSeq
            let events = s.lanes[.events]!, telemetry = s.lanes[.telemetry]!
            var hasEvents = false, hasTelemetry = false
            // Runs of one lane at a time, in order: seqs follow the records.
            // Looked at through the buffer's address: the array's subscript would copy each record.
            var kinds = [Bool]()
            kinds.reserveCapacity(records.count)
            records.withUnsafeBufferPointer { buffer in
                for i in buffer.indices {
                    switch buffer[i] {
                    case .event: kinds.append(true)
                    case .reading: kinds.append(false)
                    }
                }
            }
            let holdingTooMuch = telemetry.unwrittenBytes > options.maxUnwrittenBytes
            var heldFailure: FileError?
            do throws(FileError) { hasEvents = try writeHeldEvents(&s) } catch { heldFailure = error }
            var i = records.startIndex
            while i < records.endIndex {
                let isEvent = kinds[i]
                var end = i + 1
                while end < records.endIndex && kinds[end] == isEvent { end += 1 }
                let lane = isEvent ? events : telemetry
                if isEvent {
                    for (k, record) in records[i..<end].enumerated() { s.eventsNotOnDisk.append(StoredRecord(seq: s.nextSeq + UInt64(k), record: record)) }
                }
                if isEvent && !s.heldEvents.isEmpty {
                    // Behind events already waiting for a segment: in order, after them.
                    s.heldEvents.append((s.nextSeq, records[i..<end]))
                    s.nextSeq += UInt64(end - i)
                    i = end
                    continue
                }
                do throws(FileError) {
                    if !isEvent && holdingTooMuch { throw FileError(operation: "hold in memory", path: directory, errno: ENOSPC) }
                    do throws(FileError) { try lane.append(records[i..<end], firstSeq: s.nextSeq) } catch {
                        // No segment could be started (a journal opened on a full disk):
                        // old telemetry makes room for it, as the quota would.
                        guard error.errno == ENOSPC, dropOldestTelemetry(&s) else { throw error }
                        try lane.append(records[i..<end], firstSeq: s.nextSeq)
                    }
                    if isEvent { hasEvents = true } else { hasTelemetry = true }
                } catch {
                    if isEvent {
                        // An alarm is never refused for want of a file: held until a segment can start.
                        s.heldEvents.append((s.nextSeq, records[i..<end]))
                        heldFailure = heldFailure ?? error
                    } else {
                        // Not taken: their seqs stay unused, and the loss is counted.
                        s.cursor.dropped[lane.name, default: 0] += UInt64(end - i)
                        s.cursorOwed = true
                    }
                }
                s.nextSeq += UInt64(end - i)
                i = end
            }
            if hasTelemetry && s.telemetryUnsyncedSince == nil {
                s.telemetryUnsyncedSince = now
            }
            // Into the page cache now, onto the disk at the group commit.
            var failure = heldFailure
            do throws(FileError) { try writeBufferedMakingRoom(&s) } catch { failure = failure ?? error }
            enforceQuota(&s)
            if let failure { s.writeError = "\(failure)" }
            return (first...(s.nextSeq - 1), hasEvents, failure)
        }
        if syncEvents && failure == nil {
            do throws(FileError) { try sync([.events]) } catch { failure = error }
        }
        // Every drop counted here is in the cursor file before this returns: a crash loses no count.
        if state.withLock({ $0.cursorOwed }) { try? writeCursor() }
        return (range, failure)
    }

    /// Encodes the held events into the events lane, oldest first, as far as a segment can be started for them.
    /// Returns whether it wrote any.
    @discardableResult
    private func writeHeldEvents(_ s: inout State) throws(FileError) -> Bool {
        var wrote = false
        while let (firstSeq, records) = s.heldEvents.first {
            let events = s.lanes[.events]!
            do throws(FileError) { try events.append(records, firstSeq: firstSeq) } catch {
                guard error.errno == ENOSPC, dropOldestTelemetry(&s) else { throw error }
                try events.append(records, firstSeq: firstSeq)
            }
            s.heldEvents.removeFirst()
            wrote = true
        }
        return wrote
    }

    /// Hands buffered telemetry to the kernel; on a full disk, drops the
    /// oldest telemetry segment (counted) and tries once more.
    private func writeBufferedMakingRoom(_ s: inout State) throws(FileError) {
        let telemetry = s.lanes[.telemetry]!
        do throws(FileError) { try telemetry.writeBuffered() } catch {
            guard error.errno == ENOSPC, dropOldestTelemetry(&s) else { throw error }
            try telemetry.writeBuffered()
        }
    }

    /// Frees a full disk: the oldest telemetry segment goes, its unacknowledged records counted.
    private func dropOldestTelemetry(_ s: inout State) -> Bool {
        guard let lost = s.lanes[.telemetry]!.dropOldest(unacknowledgedAfter: s.cursor.acked[.telemetry] ?? 0) else { return false }
        s.cursor.dropped[.telemetry, default: 0] += lost
        s.cursorOwed = true
        return true
    }

    /// Records found unreadable after recovery (by the forwarder's reads):
    /// counted with the corrupt ones, durable at the next cursor write.
    public func countCorrupt(_ count: UInt64) {
        guard count > 0 else { return }
        state.withLock { $0.cursor.corruptRecords += count }
    }

    /// Why the disk refuses the journal's writes now ("No space left on device"), nil while it takes them.
    public var writeError: String? { state.withLock { $0.writeError } }

    /// When telemetry must next be fsynced, on the monotonic clock; nil when nothing waits.
    public var nextCommitDeadline: Int64? {
        state.withLock { s in
            // A refused write is retried within a second, events included (nothing else may come to write them).
            if s.writeError != nil, s.cursorOwed || !s.heldEvents.isEmpty || s.lanes.values.contains(where: \.hasUnsyncedRecords) {
                return monotonicNanos() + 1_000_000_000
            }
            return s.telemetryUnsyncedSince.map { $0 + Int64(options.commitMs) * 1_000_000 }
        }
    }

    /// Fsyncs both lanes now.
    public func commit() throws(FileError) {
        try sync(JournalLane.allCases)
    }

    /// Fsyncs what is written to `lanes`. The lock is held only to hand the
    /// buffers to the kernel and to mark the result: appends (an alarm's among
    /// them) never wait for an fsync of telemetry.
    private func sync(_ lanes: [JournalLane]) throws(FileError) {
        let committingTelemetry = lanes.contains(.telemetry)
        // What made room is counted in the cursor, written once the lock is let go (it takes the lock),
        // even when the commit fails (it then owes it no more than before).
        defer { if state.withLock({ $0.cursorOwed }) { try? writeCursor() } }
        let (points, unsyncedSince) = try state.withLock { (s) throws(FileError) -> ([(JournalLane, Lane.SyncPoint)], Int64?) in
            var points: [(JournalLane, Lane.SyncPoint)] = []
            if lanes.contains(.events) {
                do throws(FileError) { try writeHeldEvents(&s) } catch {
                    s.writeError = "\(error)"
                    throw error
                }
            }
            for name in lanes where s.lanes[name]!.hasUnsyncedRecords {
                do throws(FileError) {
                    if let point = try syncPoint(name, &s) { points.append((name, point)) }
                } catch {
                    s.writeError = "\(error)"
                    throw error
                }
            }
            let since = s.telemetryUnsyncedSince
            if committingTelemetry { s.telemetryUnsyncedSince = nil }
            return (points, since)
        }
        do throws(FileError) {
            for (_, point) in points { try point.file.dataSync() }
        } catch {
            state.withLock { $0.writeError = "\(error)" }
            // Not durable: the next commit tries again.
            if committingTelemetry, let unsyncedSince {
                state.withLock { s in s.telemetryUnsyncedSince = min(s.telemetryUnsyncedSince ?? .max, unsyncedSince) }
            }
            throw error
        }
        state.withLock { s in
            if !points.isEmpty { s.writeError = nil }
            for (name, point) in points { s.lanes[name]!.markDurable(point) }
            s.cursor.seqFloor = max(s.cursor.seqFloor, s.lanes.values.map(\.durableSeq).max() ?? 0)
            let eventsOnDisk = s.lanes[.events]!.durableSeq
            s.eventsNotOnDisk.removeAll { $0.seq <= eventsOnDisk }
        }
        if state.withLock({ $0.cursorOwed }) {
            do throws(FileError) { try writeCursor() } catch {
                state.withLock { $0.writeError = "\(error)" }
                throw error
            }
            state.withLock { $0.writeError = nil }
        }
    }

    /// `lane`'s sync point; on a full disk, events come first: the oldest telemetry goes (counted)
    /// until theirs is written or there is none left to drop.
    private func syncPoint(_ lane: JournalLane, _ s: inout State) throws(FileError) -> Lane.SyncPoint? {
        do throws(FileError) { return try s.lanes[lane]!.syncPoint() } catch {
            guard lane == .events, error.errno == ENOSPC, dropOldestTelemetry(&s) else { throw error }
            return try syncPoint(lane, &s)
        }
    }

    /// Drops telemetry oldest-first while the journal is over its quota (or
    /// older than `maxAgeSeconds`), then events beyond their reserve.
    private func enforceQuota(_ s: inout State) {
        let telemetry = s.lanes[.telemetry]!, events = s.lanes[.events]!
        func drop(_ lane: Lane) -> Bool {
            // Records already acknowledged are not lost: count only the rest.
            guard let lost = lane.dropOldest(unacknowledgedAfter: s.cursor.acked[lane.name] ?? 0) else { return false }
            s.cursor.dropped[lane.name, default: 0] += lost
            s.cursorOwed = true
            return true
        }
        if let maxAge = options.maxAgeSeconds {
            let cutoff = clock.now().milliseconds - Int64(maxAge) * 1000
            while let oldest = telemetry.segments.first, oldest.newestMs < cutoff, drop(telemetry) {}
        }
        while telemetry.totalBytes + events.totalBytes > options.maxBytes {
            let eventsOverReserve = events.totalBytes > options.eventReserve
            if !drop(telemetry) && !(eventsOverReserve && drop(events)) { break }
        }
    }

    // MARK: Reader side

    /// What a reader may read in a lane: segments, the newest up to its last fsync.
    func readableSegments(_ lane: JournalLane) -> [(info: SegmentInfo, limit: Int)] {
        state.withLock { $0.lanes[lane]!.readableSegments() }
    }

    public var cursor: JournalCursor { state.withLock { $0.cursor } }

    /// The highest seq on disk in either lane: it moves when records become accepted.
    public var durableSeq: UInt64 { state.withLock { s in s.lanes.values.map(\.durableSeq).max() ?? 0 } }

    /// Records the upstream's acknowledgement of everything in `lane` up to
    /// `seq`, durably, then deletes the segments it makes obsolete.
    public func acknowledge(_ lane: JournalLane, through seq: UInt64) throws(FileError) {
        state.withLock { s in
            s.cursor.acked[lane] = max(s.cursor.acked[lane] ?? 0, seq)
            s.cursor.seqFloor = max(s.cursor.seqFloor, seq)
            if lane == .events { s.eventsNotOnDisk.removeAll { $0.seq <= seq } }
            if let range = s.cursor.inFlight[lane], range.upperBound <= seq { s.cursor.inFlight[lane] = nil }
        }
        // Durable at once only before a segment goes (else a power cut could bring back a seq
        // floor below seqs that are gone, and seqs would be reused); otherwise at most
        // `cursorSyncMs` of acknowledgements are lost to a power cut: those batches go again,
        // and the upstream dedups them by seq. Two fsyncs a batch cost a sixth of an MQTT drain.
        let deletes = state.withLock { $0.lanes[lane]!.wouldDeleteAcknowledged(through: seq) }
        try writeCursor(deletes ? .now : cursorSyncLater)
        state.withLock { s in s.lanes[lane]!.deleteAcknowledged(through: seq) }
    }

    private var cursorSyncLater: CursorFile.Durability { .within(nanoseconds: Int64(options.cursorSyncMs) * 1_000_000) }

    /// The cursor slot a power cut cannot take (the other may be torn): for crash tests.
    var durableCursorSlot: Int? { cursorFile.withLock { $0.durableSlot } }

    /// Events after `seq` that the disk has not taken (it refuses writes: full with nothing
    /// of ours to drop, read-only, failing), oldest first, at most `maxRecords`; none while
    /// the disk takes writes (an event is on it before its append returns). An alarm does not
    /// wait for the disk to reach the upstream: see `reserveSeqs` for what makes this safe.
    public func eventsNotOnDisk(after seq: UInt64, maxRecords: Int) -> [StoredRecord] {
        state.withLock { s in
            guard s.writeError != nil else { return [] }
            return Array(s.eventsNotOnDisk.lazy.filter { $0.seq > seq }.prefix(maxRecords))
        }
    }

    /// Makes the cursor's seq floor at least `seq`, durably: after a crash no seq up to it is given
    /// to another record, so a record sent before it was on disk keeps its seq to itself (an
    /// upstream deduplicating by seq would drop the newcomer). The cursor's slots are written in
    /// place, so a full disk takes this; a read-only one does not, and then nothing is sent.
    /// Written and fsynced every time: a floor already that high in memory may not be on disk yet
    /// (acknowledgements are fsynced up to a second late), and this runs only while the disk refuses records.
    public func reserveSeqs(through seq: UInt64) throws(FileError) {
        state.withLock { s in s.cursor.seqFloor = max(s.cursor.seqFloor, seq) }
        try writeCursor()
    }

    /// Remembers the batch about to be sent, so that after a crash the same
    /// batch (same seqs, same id) is sent again.
    /// Lost to a power cut only together with the acknowledgements after it: the batch
    /// then re-forms from the acknowledged seq, and what it repeats the upstream dedups by seq.
    public func markInFlight(_ lane: JournalLane, _ range: ClosedRange<UInt64>) throws(FileError) {
        state.withLock { $0.cursor.inFlight[lane] = range }
        try writeCursor(cursorSyncLater)
    }

    private func writeCursor(_ durability: CursorFile.Durability = .now) throws(FileError) {
        try cursorFile.withLock { (file) throws(FileError) in
            // Owed no more from the copy taken here: a drop counted after it owes the next write.
            let cursor = state.withLock { s in
                s.cursor.generation += 1
                s.cursorOwed = false
                return s.cursor
            }
            do throws(FileError) { try file.store(cursor, durability) } catch {
                state.withLock { $0.cursorOwed = true }
                throw error
            }
        }
    }

    public var stats: JournalStats {
        state.withLock { s in
            var pending: [JournalLane: UInt64] = [:]
            for name in s.lanes.keys { pending[name] = Self.pending(name, in: s) }
            return JournalStats(bytes: s.lanes.values.reduce(0) { $0 + $1.totalBytes }, pending: pending,
                                acked: s.cursor.acked, dropped: s.cursor.dropped, corruptRecords: s.cursor.corruptRecords,
                                lastSeq: s.nextSeq - 1,
                                bytesWritten: s.lanes.values.reduce(0) { $0 + $1.bytesWritten })
        }
    }

    /// Records of `lane` not yet acknowledged, counted from the segments without reading
    /// them: at least as many as a reader would find (a segment's records after the
    /// acknowledgement are bounded by its seqs past it).
    public func pending(_ lane: JournalLane) -> UInt64 {
        state.withLock { Self.pending(lane, in: $0) }
    }

    private static func pending(_ lane: JournalLane, in s: State) -> UInt64 {
        let acked = s.cursor.acked[lane] ?? 0
        // Held events sent from memory (`eventsNotOnDisk`) and acknowledged wait no more.
        var held: UInt64 = 0
        if lane == .events {
            for entry in s.heldEvents where !entry.records.isEmpty {
                let lastSeq = entry.firstSeq + UInt64(entry.records.count) - 1
                if lastSeq > acked { held += lastSeq - max(acked, entry.firstSeq - 1) }
            }
        }
        return s.lanes[lane]!.segments.reduce(held) { total, seg in
            total + (seg.lastSeq <= acked ? 0 : (seg.firstSeq > acked ? UInt64(seg.records) : min(UInt64(seg.records), seg.lastSeq - acked)))
        }
    }

    /// Fsyncs everything and writes the cursor: an orderly stop.
    public func close() throws(FileError) {
        try commit()
        try writeCursor()
        state.withLock { s in s.lanes.values.forEach { $0.close() } }
    }
}

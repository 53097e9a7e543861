#if canImport(Glibc)
import Glibc
#endif

/// What survives in `journal/cursor`: the upstream's acknowledgements, the
/// batch in flight (so a batch resent after a crash is the same batch, with
/// the same id), and the counts the upstream must hear about.
public struct JournalCursor: Sendable, Equatable {
    public var acked: [JournalLane: UInt64] = [:]
    public var inFlight: [JournalLane: ClosedRange<UInt64>] = [:]
    public var dropped: [JournalLane: UInt64] = [:]
    public var corruptRecords: UInt64 = 0
    /// The highest seq ever issued and fsynced, so seqs never go back even when
    /// every segment holding them was acknowledged and deleted.
    public var seqFloor: UInt64 = 0
    /// Counts the updates: of the two slots on disk, the higher one is current.
    var generation: UInt64 = 0

    public init() {}

    static let header = "vigil-journal-cursor 1"

    /// Text, one `key value` per line, and a CRC-32C of the lines above the last.
    func encoded() -> [UInt8] {
        var lines = [Self.header, "generation \(generation)", "seq_floor \(seqFloor)", "corrupt_records \(corruptRecords)"]
        for lane in JournalLane.allCases {
            lines.append("acked.\(lane.rawValue) \(acked[lane] ?? 0)")
            lines.append("dropped.\(lane.rawValue) \(dropped[lane] ?? 0)")
            if let range = inFlight[lane] { lines.append("in_flight.\(lane.rawValue) \(range.lowerBound) \(range.upperBound)") }
        }
        let text = lines.joined(separator: "\n") + "\n"
        return Array((text + "crc \(CRC32C.checksum(Array(text.utf8)))\n").utf8)
    }

    enum ParseError: Error { case corrupt(String) }

    static func parse(_ text: String) throws(ParseError) -> JournalCursor {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard let crcLine = lines.popLast(), crcLine.hasPrefix("crc "), let crc = UInt32(crcLine.dropFirst(4)) else {
            throw .corrupt("no checksum line")
        }
        let body = lines.joined(separator: "\n") + "\n"
        guard crc == CRC32C.checksum(Array(body.utf8)) else { throw .corrupt("checksum mismatch") }
        guard lines.first == header else { throw .corrupt("unknown header") }
        var cursor = JournalCursor()
        for line in lines.dropFirst() {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count >= 2, let value = UInt64(parts[1]) else { throw .corrupt("bad line \(line)") }
            let key = parts[0]
            if key == "generation" { cursor.generation = value; continue }
            if key == "seq_floor" { cursor.seqFloor = value; continue }
            if key == "corrupt_records" { cursor.corruptRecords = value; continue }
            let keyParts = key.split(separator: ".").map(String.init)
            guard keyParts.count == 2, let lane = JournalLane(rawValue: keyParts[1]) else { throw .corrupt("bad key \(key)") }
            switch keyParts[0] {
            case "acked": cursor.acked[lane] = value
            case "dropped": cursor.dropped[lane] = value
            case "in_flight":
                guard parts.count == 3, let last = UInt64(parts[2]), last >= value else { throw .corrupt("bad line \(line)") }
                cursor.inFlight[lane] = value...last
            default: throw .corrupt("bad key \(key)")
            }
        }
        return cursor
    }
}

/// The cursor file: two 4 KiB slots, each a whole cursor with its generation
/// and CRC. One slot holds the last fsynced cursor and is not written until
/// the other has been fsynced in its turn: a power cut spoils at most the slot
/// being written, so one fdatasync makes an update durable, with no rename and
/// no directory fsync. Updates that need not be durable at once (`.within`)
/// all go to the other slot, fsynced when the interval has passed.
final class CursorFile {
    static let slotSize = 4096
    let path: String
    private var file: POSIXFile?
    /// The slot that holds the last fsynced cursor; nil before the first store.
    private(set) var durableSlot: Int?
    private var lastSyncNanos: Int64 = 0
    /// Crash tests' trace (`JournalOptions.traceFile`): a line `cursor PATH SLOT` after each fsync.
    private let trace: POSIXFile?

    enum Durability {
        /// Fsynced before store returns.
        case now
        /// Written at once (a SIGKILL loses nothing); fsynced when the last fsync is this old.
        case within(nanoseconds: Int64)
    }

    init(path: String, trace: POSIXFile? = nil) { self.path = path; self.trace = trace }

    var exists: Bool { fileExists(path) }

    /// The current cursor, or why there is none usable. What was read is fsynced (a crash
    /// may have left it unsynced), and its slot is the durable one: the run writes the other.
    func load() -> Result<JournalCursor, JournalCursor.ParseError> {
        do {
            let file = try POSIXFile(path: path, flags: O_RDONLY)
            var best: (cursor: JournalCursor, slot: Int)?
            var buffer: [UInt8] = []
            for slot in 0..<2 {
                let n = try file.read(at: slot * Self.slotSize, count: Self.slotSize, into: &buffer)
                let text = String(decoding: buffer[0..<n].prefix { $0 != 0 }, as: UTF8.self)
                if let cursor = try? JournalCursor.parse(text), cursor.generation >= (best?.cursor.generation ?? 0) { best = (cursor, slot) }
            }
            if let best {
                try file.dataSync()
                durableSlot = best.slot
                lastSyncNanos = monotonicNanos()
                try? trace?.write(Array("cursor \(path) \(best.slot)\n".utf8))
                return .success(best.cursor)
            }
            return .failure(.corrupt("neither slot holds a valid cursor"))
        } catch {
            return .failure(.corrupt("\(error)"))
        }
    }

    /// Writes `cursor` into the slot that does not hold the last durable one, and fsyncs
    /// as `durability` asks (always the first store into a new file).
    func store(_ cursor: JournalCursor, _ durability: Durability = .now) throws(FileError) {
        if file == nil {
            let created = !fileExists(path)
            file = try POSIXFile(path: path, flags: O_RDWR | O_CREAT)
            if created {
                // Both slots written now, while there is room: later stores rewrite them in place,
                // so a full disk never stops the forwarder recording what it sent and what was taken.
                try file!.write([UInt8](repeating: 0, count: 2 * Self.slotSize), at: 0)
                try FileSystem.syncDirectory(directoryName(of: path))
            }
        }
        var bytes = cursor.encoded()
        guard bytes.count < Self.slotSize else { throw FileError(operation: "cursor larger than its slot", path: path, errno: EOVERFLOW) }
        bytes += [UInt8](repeating: 0, count: Self.slotSize - bytes.count)
        let slot = durableSlot.map { 1 - $0 } ?? 0
        try file!.write(bytes, at: slot * Self.slotSize)
        let sync: Bool = switch durability {
        case .now: true
        case .within(let interval): durableSlot == nil || monotonicNanos() - lastSyncNanos >= interval
        }
        guard sync else { return }
        try file!.dataSync()
        durableSlot = slot
        lastSyncNanos = monotonicNanos()
        try? trace?.write(Array("cursor \(path) \(slot)\n".utf8))
    }

    /// Sets a damaged cursor file aside (kept for a look, never reused).
    func moveAside(to target: String) {
        file = nil
        try? FileSystem.rename(path, to: target)
    }
}

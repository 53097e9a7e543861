/// # The journal: on-disk format and invariants
///
/// A reading is accepted only once it is in the journal and fsynced; the
/// forwarder reads the journal from disk, never an in-memory queue. So a
/// restart or a power cut loses nothing that was accepted, and memory stays
/// flat however long the uplink is down.
///
/// ## Layout (`state_dir/journal/`)
///
///     events/      lane for alarms and device events: fsynced at once, sent first
///     telemetry/   lane for readings: group commit every `commit_ms`
///     cursor       what the upstream acknowledged, drop counts, the in-flight batch
///     corrupt/     files that could not be read, moved aside (never deleted)
///
/// Each lane is a series of segment files named by the seq of their first
/// record, zero-padded so that names sort in seq order (`00000000000000000042.seg`).
/// A segment is a 16-byte header — the magic `VIGILJ01` and the first seq
/// (UInt64, little-endian) — followed by frames:
///
///     length  UInt32 LE   bytes of body
///     crc     UInt32 LE   CRC-32C over seq and body
///     seq     UInt64 LE   0 for dictionary entries, else the record's seq
///     body    `length` bytes (see `RecordCodec`)
///
/// Bodies are compact (about 40 bytes a reading with its frame): device, point,
/// unit, label and error strings are written once per segment as dictionary
/// entries (each written twice, so one damaged copy costs no record) and
/// referred to by number, so each segment decodes on its own.
///
/// ## Invariants
///
/// 1. Seqs are issued once, in order, across both lanes and across restarts:
///    the next seq after a start is one more than the highest seq in either
///    lane or acknowledged in the cursor. Only fsynced records are ever sent,
///    so after a power cut (files cut back to their last fsync) no seq the
///    upstream has seen is issued again for another reading.
/// 2. Within a lane, seqs increase along the frames and across segments.
/// 3. Bytes past a lane's last fsync are never read by the forwarder.
/// 4. The cursor is replaced atomically (temp file, fsync, rename, fsync the
///    directory) before any segment it makes obsolete is deleted.
/// 5. Recovery never stops the agent: a torn tail (a partial or zero-filled
///    last frame) is cut off; a corrupt frame in the middle is skipped, counted,
///    and reading resumes at the next frame whose CRC holds; a file that cannot
///    be read is moved to `corrupt/` and reported.
/// 6. Quota: telemetry is dropped oldest segment first when the journal is full;
///    events have a reserve of their own and are never dropped for telemetry.
///    Every dropped record is counted in the cursor and reported upstream.
enum JournalFormat {
    static let magic: [UInt8] = Array("VIGILJ01".utf8)
    static let segmentHeaderSize = 16
    static let frameHeaderSize = 16
    /// No record is anywhere near this; a larger length is corruption.
    static let maxBodySize = 64 * 1024

    static func segmentName(firstSeq: UInt64) -> String {
        let digits = String(firstSeq)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".seg"
    }

    static func firstSeq(ofSegmentNamed name: String) -> UInt64? {
        guard name.hasSuffix(".seg"), name.count == 24 else { return nil }
        return UInt64(name.dropLast(4))
    }

    static func segmentHeader(firstSeq: UInt64) -> [UInt8] {
        magic + withUnsafeBytes(of: firstSeq.littleEndian) { Array($0) }
    }

    static func readLE<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, at offset: Int, as _: T.Type = T.self) -> T {
        var v: T = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + MemoryLayout<T>.size])) }
        return T(littleEndian: v)
    }

    /// Starts a frame whose body, at most `bodyBound` bytes, the caller then
    /// writes in place (room is reserved once, for all of it); `endFrame`
    /// fills in its length and CRC. Returns where the frame starts.
    @inline(__always)
    static func beginFrame(seq: UInt64, bodyBound: Int, in out: inout ByteWriter) -> Int {
        out.reserve(frameHeaderSize + bodyBound)
        let start = out.count
        out.appendLE(UInt32(0)) // length, filled in by endFrame
        out.appendLE(UInt32(0)) // CRC, filled in by endFrame
        out.appendLE(seq)
        return start
    }

    @inline(__always)
    static func endFrame(startingAt start: Int, in out: inout ByteWriter) {
        let length = UInt32(out.count - start - frameHeaderSize)
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(start: out.base + start + 8, count: out.count - start - 8))
        out.storeLE(length, at: start)
        out.storeLE(crc, at: start + 4)
    }

    enum FrameCheck {
        case frame(seq: UInt64, body: Range<Int>, end: Int)
        /// Not enough bytes for the frame its header announces.
        case truncated
        /// The bytes are not a frame (bad length or CRC).
        case corrupt
    }

    /// Checks the frame that would start at `offset` in `bytes`.
    static func checkFrame(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> FrameCheck {
        guard offset + frameHeaderSize <= bytes.count else { return .truncated }
        let length = Int(readLE(bytes, at: offset, as: UInt32.self))
        if length == 0 || length > maxBodySize { return .corrupt }
        let end = offset + frameHeaderSize + length
        guard end <= bytes.count else { return .truncated }
        let crc: UInt32 = readLE(bytes, at: offset + 4)
        let seqAndBody = UnsafeRawBufferPointer(rebasing: bytes[(offset + 8)..<end])
        guard CRC32C.checksum(seqAndBody) == crc else { return .corrupt }
        let seq: UInt64 = readLE(bytes, at: offset + 8)
        return .frame(seq: seq, body: (offset + frameHeaderSize)..<end, end: end)
    }
}

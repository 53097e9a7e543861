#if canImport(Glibc)
import Glibc
#endif

/// Walks the frames of one segment file through a fixed window (memory stays
/// flat whatever the file's size), skipping corrupt frames the way recovery
/// and the forwarder both need.
struct SegmentScanner {
    static let windowSize = 64 * 1024

    let file: POSIXFile
    /// Bytes past this are not read (a lane's last fsync, or the file's end).
    let limit: Int
    private var window: [UInt8] = []
    private var windowStart = 0
    private var windowCount = 0
    private(set) var offset: Int

    init(file: POSIXFile, limit: Int, offset: Int = JournalFormat.segmentHeaderSize) {
        self.file = file
        self.limit = limit
        self.offset = offset
    }

    enum Step {
        /// A good frame; its body went to the `visit` closure.
        case frame(seq: UInt64)
        /// A corrupt stretch was skipped; scanning goes on at the next good frame.
        /// `dictionaryEntry`: the stretch was one frame that reads as a dictionary
        /// entry (seq 0, kind 3) — a copy, which costs no record by itself.
        case skippedCorrupt(from: Int, dictionaryEntry: Bool)
        /// The rest, from this offset, is a torn tail (partial, zero-filled or unreadable).
        case tornTail(at: Int)
        case end
    }

    /// Makes the window cover [offset, offset + need) where the file allows.
    private mutating func load(_ at: Int, need: Int) throws(FileError) {
        if at >= windowStart && at + need <= windowStart + windowCount { return }
        let count = min(max(Self.windowSize, need), limit - at)
        windowStart = at
        windowCount = count > 0 ? try file.read(at: at, count: count, into: &window) : 0
    }

    private mutating func check(_ at: Int) throws(FileError) -> JournalFormat.FrameCheck {
        try load(at, need: JournalFormat.frameHeaderSize)
        var result = window.withUnsafeBytes { JournalFormat.checkFrame(UnsafeRawBufferPointer(rebasing: $0[(at - windowStart)..<windowCount]), at: 0) }
        if case .truncated = result, at + JournalFormat.frameHeaderSize <= limit {
            // The frame may reach past the window: load it whole and look again.
            let length = window.withUnsafeBytes { Int(JournalFormat.readLE($0, at: at - windowStart, as: UInt32.self)) }
            try load(at, need: JournalFormat.frameHeaderSize + min(length, JournalFormat.maxBodySize))
            result = window.withUnsafeBytes { JournalFormat.checkFrame(UnsafeRawBufferPointer(rebasing: $0[(at - windowStart)..<windowCount]), at: 0) }
        }
        return result
    }

    /// The next step; a good frame's body is passed to `visit`.
    mutating func next(after lastSeq: UInt64, visit: (UInt64, UnsafeRawBufferPointer) -> Void) throws(FileError) -> Step {
        if offset >= limit { return .end }
        switch try check(offset) {
        case .frame(let seq, let body, let end):
            let base = offset - windowStart
            offset += end
            window.withUnsafeBytes { visit(seq, UnsafeRawBufferPointer(rebasing: $0[(base + body.lowerBound)..<(base + body.upperBound)])) }
            return .frame(seq: seq)
        case .truncated, .corrupt:
            // A frame cut short at the end is a torn tail; a bad frame with good
            // ones after it (a damaged length, a flipped bit) is corruption.
            let bad = offset
            let shape = try frameShape(at: bad)
            let next = bad + JournalFormat.frameHeaderSize + shape.length
            if shape.seq == 0, shape.kind == RecordKind.dictionary.rawValue, shape.length > 0, next < limit,
               try plausibleHeader(at: next, after: lastSeq) {
                // A dictionary entry whose header holds and is followed by another
                // frame: skip exactly it, so its twin, even damaged too, is seen.
                offset = next
                return .skippedCorrupt(from: bad, dictionaryEntry: true)
            }
            if let resume = try resync(from: bad + 1, after: lastSeq) {
                offset = resume
                return .skippedCorrupt(from: bad, dictionaryEntry: false)
            }
            return .tornTail(at: bad)
        }
    }

    /// What a frame header at `at` says, trusted or not, and its body's first byte.
    private mutating func frameShape(at: Int) throws(FileError) -> (length: Int, seq: UInt64, kind: UInt8?) {
        try load(at, need: JournalFormat.frameHeaderSize + 1)
        return window.withUnsafeBytes { w in
            let base = at - windowStart
            guard base + JournalFormat.frameHeaderSize <= windowCount else { return (0, 1, nil) }
            let kind = base + JournalFormat.frameHeaderSize < windowCount ? w[base + JournalFormat.frameHeaderSize] : nil
            return (Int(JournalFormat.readLE(w, at: base, as: UInt32.self)), JournalFormat.readLE(w, at: base + 8), kind)
        }
    }

    /// Whether a frame header at `at` has a possible length and seq (its CRC unchecked).
    private mutating func plausibleHeader(at: Int, after lastSeq: UInt64) throws(FileError) -> Bool {
        guard at + JournalFormat.frameHeaderSize <= limit else { return false }
        try load(at, need: JournalFormat.frameHeaderSize)
        return window.withUnsafeBytes { w in
            let length = Int(JournalFormat.readLE(w, at: at - windowStart, as: UInt32.self))
            let seq: UInt64 = JournalFormat.readLE(w, at: at - windowStart + 8)
            return length > 0 && length <= JournalFormat.maxBodySize && (seq == 0 || (seq > lastSeq && seq - lastSeq < 1 << 32))
        }
    }

    /// The next offset where a frame with a plausible seq and a good CRC starts.
    private mutating func resync(from start: Int, after lastSeq: UInt64) throws(FileError) -> Int? {
        var at = start
        while at + JournalFormat.frameHeaderSize <= limit {
            if try plausibleHeader(at: at, after: lastSeq), case .frame = try check(at) { return at }
            at += 1
        }
        return nil
    }
}

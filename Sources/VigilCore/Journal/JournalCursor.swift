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

    public init() {}

    static let header = "vigil-journal-cursor 1"

    /// Text, one `key value` per line, and a CRC-32C of the lines above the last.
    func encoded() -> [UInt8] {
        var lines = [Self.header, "seq_floor \(seqFloor)", "corrupt_records \(corruptRecords)"]
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

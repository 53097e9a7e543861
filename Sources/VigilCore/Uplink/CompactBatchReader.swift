/// A version 2 batch (`UplinkBatch.compactJSON`) read back: its readings as
/// version 1 objects, byte for byte what `RecordJSON` writes for the same
/// reading, so a receiver stores one shape whichever version came; and the
/// batch's id, the same as version 1's. Every row is checked on the way; an
/// error names the row and what was expected.
public enum CompactBatchReader {
    public typealias Failure = BatchScanner.Failure

    public struct Read {
        public var readings: [[UInt8]]
        /// `<gateway>-<first seq>-<last seq>`: version 1's `batch_id` and Idempotency-Key.
        public var batchID: String
    }

    public static func read(_ batch: BatchScanner.Batch, in bytes: UnsafeRawBufferPointer) throws(Failure) -> Read {
        guard let gateway = batch.gateway else { throw Failure(offset: 0, message: "gateway: missing") }
        let firstSeq = try integer(batch.seq, named: "seq", in: bytes)
        guard firstSeq >= 0 else { throw Failure(offset: batch.seq?.lowerBound ?? 0, message: "seq: expected an integer of at least 0") }
        var seq = firstSeq
        var ms = try integer(batch.sentMs, named: "sent_ms", in: bytes)
        var objects: [[UInt8]] = []
        objects.reserveCapacity(batch.readings.count)
        for (n, row) in batch.readings.enumerated() {
            func fail(_ what: String) -> Failure { Failure(offset: row.lowerBound, message: "readings[\(n)]: \(what)") }
            let cells = try BatchScanner.elements(ofArrayAt: row, in: bytes)
            guard cells.count == 8 || cells.count == 9 else { throw fail("expected 8 or 9 elements, found \(cells.count)") }
            let minimumStep: Int64 = n == 0 ? 0 : 1
            guard let seqStep = BatchScanner.integer(in: cells[0], of: bytes), seqStep >= minimumStep,
                  case (let nextSeq, false) = seq.addingReportingOverflow(seqStep) else {
                throw fail("element 0 (seq step): expected an integer of at least \(minimumStep)")
            }
            seq = nextSeq
            guard let msStep = BatchScanner.integer(in: cells[1], of: bytes), case (let sum, false) = ms.addingReportingOverflow(msStep) else {
                throw fail("element 1 (ms step): expected an integer")
            }
            ms = sum
            func isString(_ cell: Range<Int>) -> Bool { bytes[cell.lowerBound] == 0x22 }
            func isNull(_ cell: Range<Int>) -> Bool { bytes[cell.lowerBound] == 0x6E }
            guard isString(cells[2]) else { throw fail("element 2 (device): expected a string") }
            guard isString(cells[3]) else { throw fail("element 3 (point): expected a string") }
            guard bytes[cells[4].lowerBound] != 0x7B, bytes[cells[4].lowerBound] != 0x5B else { throw fail("element 4 (value): expected a number, string, boolean or null") }
            let raw: [UInt8]?
            if isString(cells[5]) {
                raw = Array(UnsafeRawBufferPointer(rebasing: bytes[cells[5]]))
            } else if isNull(cells[5]) {
                raw = nil
            } else {
                let valueText = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[cells[4]]), as: UTF8.self)
                guard let code = BatchScanner.integer(in: cells[5], of: bytes),
                      let hex = Float32RawShorthand.hex(code: code, valueText: valueText) else {
                    throw fail("element 5 (raw): expected a string, null, or 1 to 4 beside a number (a float32's word order)")
                }
                var quoted: [UInt8] = []
                RecordJSON.appendString(hex, to: &quoted)
                raw = quoted
            }
            guard isString(cells[6]) || isNull(cells[6]) else { throw fail("element 6 (unit): expected a string or null") }
            guard isString(cells[7]) else { throw fail("element 7 (quality): expected a string") }
            var rare: [(key: String, value: Range<Int>)] = []
            if cells.count == 9 {
                guard bytes[cells[8].lowerBound] == 0x7B else { throw fail("element 8: expected an object of the rare fields") }
                rare = try BatchScanner.members(ofObjectAt: cells[8], in: bytes)
            }
            var clockSynced = true
            if let synced = rare.first(where: { $0.key == "clock_synced" }) {
                switch bytes[synced.value.lowerBound] {
                case 0x74: clockSynced = true
                case 0x66: clockSynced = false
                default: throw fail("clock_synced: expected true or false")
                }
            }
            for member in rare where ["label", "error", "mode"].contains(member.key) && !isString(member.value) {
                throw fail("\(member.key): expected a string")
            }
            var out: [UInt8] = []
            out.reserveCapacity(row.count + 96)
            func append(_ cell: Range<Int>) { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[cell])) }
            func appendRare(_ key: String) {
                guard let member = rare.first(where: { $0.key == key }) else { return }
                out.append(contentsOf: ",\"\(key)\":".utf8)
                append(member.value)
            }
            RecordJSON.literal(#"{"seq":"#, to: &out); RecordJSON.appendInteger(seq, to: &out)
            RecordJSON.literal(#","ts":""#, to: &out)
            WallTime(milliseconds: ms, clockSynced: clockSynced).appendISO8601(to: &out)
            RecordJSON.literal(clockSynced ? #"","clock_synced":true"# : #"","clock_synced":false"#, to: &out)
            RecordJSON.literal(#","device":"#, to: &out); append(cells[2])
            RecordJSON.literal(#","point":"#, to: &out); append(cells[3])
            RecordJSON.literal(#","value":"#, to: &out); append(cells[4])
            if let raw { RecordJSON.literal(#","raw":"#, to: &out); out.append(contentsOf: raw) }
            if !isNull(cells[6]) { RecordJSON.literal(#","unit":"#, to: &out); append(cells[6]) }
            appendRare("label")
            RecordJSON.literal(#","quality":"#, to: &out); append(cells[7])
            appendRare("error")
            appendRare("mode")
            // Fields a newer gateway adds are kept, after the known ones.
            for member in rare where !["clock_synced", "label", "error", "mode"].contains(member.key) { appendRare(member.key) }
            out.append(0x7D)
            objects.append(out)
        }
        var lastSeq = seq
        for (n, event) in batch.events.enumerated() {
            let members = try BatchScanner.members(ofObjectAt: event, in: bytes)
            guard let value = members.first(where: { $0.key == "seq" })?.value, let eventSeq = BatchScanner.integer(in: value, of: bytes), eventSeq >= firstSeq else {
                throw Failure(offset: event.lowerBound, message: "events[\(n)]: seq: expected an integer of at least the batch's seq \(firstSeq)")
            }
            lastSeq = max(lastSeq, eventSeq)
        }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(gateway.lowerBound + 1)..<(gateway.upperBound - 1)]), as: UTF8.self)
        return Read(readings: objects, batchID: "\(name)-\(firstSeq)-\(lastSeq)")
    }

    private static func integer(_ range: Range<Int>?, named name: String, in bytes: UnsafeRawBufferPointer) throws(Failure) -> Int64 {
        guard let range else { throw Failure(offset: 0, message: "\(name): missing (a version 2 batch with readings needs it)") }
        guard let value = BatchScanner.integer(in: range, of: bytes) else { throw Failure(offset: range.lowerBound, message: "\(name): expected an integer") }
        return value
    }
}

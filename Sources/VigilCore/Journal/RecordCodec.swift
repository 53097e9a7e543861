/// The body of a journal frame: a record in a compact binary form.
///
///     dictionary entry:  0x03, id (varint), UTF-8 text
///     reading:           0x01, ts ms (varint), flags, value tag, device, point,
///                        [unit], value, raw, [label], [error]
///     event:             0x02, ts ms (varint), flags, kind, [device], [bus], [detail]
///
/// Strings (device, point, unit, label, error, event kind, bus, detail) are
/// dictionary ids, defined earlier in the same segment. Reading flags: bit 0
/// clock synced, bits 1–2 quality, bit 3 label, bit 4 error, bit 5 unit, bit 6 mode.
/// Event flags: bit 0 clock synced, bit 1 device, bit 2 bus, bit 3 detail,
/// bit 4 alarm (point, level, parts byte, [severity], [value f64], setpoint f64, [trigger seq]).
/// Value tags: 0 null, 1 int (zigzag varint), 2 uint (varint), 3 float32
/// (4 bytes), 4 float64 (8 bytes), 5 false, 6 true, 7 string (dictionary id).
/// Raw: 0 none, 1 register words (count, then 2 bytes each, big-endian),
/// 2 bit 0, 3 bit 1, 4 other text (dictionary id).
enum RecordKind: UInt8 {
    case reading = 1, event = 2, dictionary = 3
}

struct RecordEncoder {
    private var ids = StringIDTable()
    private var recent = StringIdentityCache()

    /// A new segment starts a new dictionary.
    mutating func reset() {
        ids.removeAll()
        recent.removeAll()
    }

    /// Appends the frames for `record`: its new dictionary entries, then itself.
    /// Returns the record's timestamp (ms), which the segment index keeps.
    @discardableResult
    mutating func appendFrames(_ record: borrowing Record, seq: UInt64, to out: inout ByteWriter) -> Int64 {
        switch record {
        case .reading(let r): return appendReading(r, seq: seq, to: &out)
        case .event(let e): return appendEvent(e, seq: seq, to: &out)
        }
    }

    private mutating func appendReading(_ r: borrowing Reading, seq: UInt64, to out: inout ByteWriter) -> Int64 {
        // Dictionary entries go first, so ids are known before the body is written.
        let device = id(r.device, &out), point = id(r.point, &out)
        let unit = r.unit.map { id($0, &out) }
        let stringValue: UInt64? = if case .string(let s) = r.value { id(s, &out) } else { nil }
        let label = r.label.map { id($0, &out) }
        let error = r.error.map { id($0, &out) }
        let mode = r.mode.map { id($0, &out) }
        var flags: UInt8 = r.timestamp.clockSynced ? 1 : 0
        flags |= (r.quality == .good ? 0 : r.quality == .bad ? 1 : 2) << 1
        if label != nil { flags |= 1 << 3 }
        if error != nil { flags |= 1 << 4 }
        if unit != nil { flags |= 1 << 5 }
        if mode != nil { flags |= 1 << 6 }
        let tag: UInt8 = switch r.value {
        case nil: 0; case .int: 1; case .uint: 2; case .float: 3; case .double: 4
        case .bool(let b): b ? 6 : 5; case .string: 7
        }
        let words = r.raw.wordCount
        // Fixed fields and ids: at most 90 bytes; raw: a kind byte, a count and two bytes a word.
        let frame = JournalFormat.beginFrame(seq: seq, bodyBound: 100 + 2 * words, in: &out)
        out.append(RecordKind.reading.rawValue)
        out.appendVarint(UInt64(bitPattern: r.timestamp.milliseconds))
        out.append(flags)
        out.append(tag)
        out.appendVarint(device)
        out.appendVarint(point)
        if let unit { out.appendVarint(unit) }
        switch r.value {
        case .int(let v): out.appendVarint(Varint.zigzag(v))
        case .uint(let v): out.appendVarint(v)
        case .float(let v): out.appendLE(v.bitPattern)
        case .double(let v): out.appendLE(v.bitPattern)
        case .string: out.appendVarint(stringValue!)
        case nil, .bool: break
        }
        if let bit = r.raw.bit {
            out.append(bit ? 3 : 2)
        } else if words == 0 {
            out.append(0)
        } else {
            out.append(1)
            out.appendVarint(UInt64(words))
            r.raw.forEachWord { word in
                out.append(UInt8(word >> 8))
                out.append(UInt8(word & 0xFF))
            }
        }
        if let label { out.appendVarint(label) }
        if let error { out.appendVarint(error) }
        if let mode { out.appendVarint(mode) }
        JournalFormat.endFrame(startingAt: frame, in: &out)
        return r.timestamp.milliseconds
    }

    private mutating func appendEvent(_ e: borrowing Event, seq: UInt64, to out: inout ByteWriter) -> Int64 {
        let kind = id(e.kind.rawValue, &out)
        let device = e.device.map { id($0, &out) }, bus = e.bus.map { id($0, &out) }, detail = e.detail.map { id($0, &out) }
        let alarmPoint = e.alarm.map { id($0.point, &out) }, alarmLevel = e.alarm.map { id($0.level.rawValue, &out) }
        let severity = e.alarm?.severity.map { id($0, &out) }
        // Seven ids, two floats, a timestamp, a seq and four single bytes: under 128.
        let frame = JournalFormat.beginFrame(seq: seq, bodyBound: 128, in: &out)
        out.append(RecordKind.event.rawValue)
        out.appendVarint(UInt64(bitPattern: e.timestamp.milliseconds))
        var flags: UInt8 = e.timestamp.clockSynced ? 1 : 0
        if device != nil { flags |= 1 << 1 }
        if bus != nil { flags |= 1 << 2 }
        if detail != nil { flags |= 1 << 3 }
        if e.alarm != nil { flags |= 1 << 4 }
        out.append(flags)
        out.appendVarint(kind)
        if let device { out.appendVarint(device) }
        if let bus { out.appendVarint(bus) }
        if let detail { out.appendVarint(detail) }
        if let a = e.alarm {
            // point, level, then a byte of which optional parts follow.
            out.appendVarint(alarmPoint!)
            out.appendVarint(alarmLevel!)
            out.append((severity != nil ? 1 : 0) | (a.value != nil ? 2 : 0) | (a.triggerSeq != nil ? 4 : 0))
            if let severity { out.appendVarint(severity) }
            if let value = a.value { out.appendLE(value.bitPattern) }
            out.appendLE(a.setpoint.bitPattern)
            if let seq = a.triggerSeq { out.appendVarint(seq) }
        }
        JournalFormat.endFrame(startingAt: frame, in: &out)
        return e.timestamp.milliseconds
    }

    /// The id of `text`, defining it (a frame of its own) the first time.
    private mutating func id(_ text: String, _ out: inout ByteWriter) -> UInt64 {
        if let known = recent.find(text) { return known }
        let hash = StringIDTable.hash(text)
        if let known = ids.find(text, hash: hash) {
            recent.remember(text, id: known)
            return known
        }
        let new = UInt64(ids.count)
        ids.insert(text, hash: hash, id: new)
        recent.remember(text, id: new)
        // Written twice: a damaged entry would make every record that names the
        // string unreadable, and the copy costs a few bytes once per segment.
        var text = text
        text.withUTF8 { utf8 in
            for _ in 0..<2 {
                let frame = JournalFormat.beginFrame(seq: 0, bodyBound: 11 + utf8.count, in: &out)
                out.append(RecordKind.dictionary.rawValue)
                out.appendVarint(new)
                out.append(UnsafeRawBufferPointer(utf8))
                JournalFormat.endFrame(startingAt: frame, in: &out)
            }
        }
        return new
    }
}

struct RecordDecodeError: Error {
    var reason: String
}

struct RecordDecoder {
    /// By id: a dictionary entry lost to corruption leaves a hole, and only the
    /// records that use it become unreadable.
    private var strings: [UInt64: String] = [:]

    mutating func reset() { strings.removeAll(keepingCapacity: true) }

    /// The record in `body`, or nil for a dictionary entry (which it learns).
    mutating func decode(_ body: UnsafeRawBufferPointer) throws(RecordDecodeError) -> Record? {
        var r = ByteReader(bytes: body)
        guard let kind = RecordKind(rawValue: try r.byte()) else { throw RecordDecodeError(reason: "unknown record kind") }
        switch kind {
        case .dictionary:
            let id = try r.varint()
            strings[id] = String(decoding: r.rest(), as: UTF8.self)
            return nil
        case .reading:
            let ms = Int64(bitPattern: try r.varint())
            let flags = try r.byte()
            let tag = try r.byte()
            let device = try string(&r), point = try string(&r)
            let unit = flags & (1 << 5) != 0 ? try string(&r) : nil
            let value: PointValue?
            switch tag {
            case 0: value = nil
            case 1: value = .int(Varint.unzigzag(try r.varint()))
            case 2: value = .uint(try r.varint())
            case 3: value = .float(Float(bitPattern: try r.le(UInt32.self)))
            case 4: value = .double(Double(bitPattern: try r.le(UInt64.self)))
            case 5: value = .bool(false)
            case 6: value = .bool(true)
            case 7: value = .string(try string(&r))
            default: throw RecordDecodeError(reason: "unknown value tag \(tag)")
            }
            let raw = try readRaw(&r)
            let label = flags & (1 << 3) != 0 ? try string(&r) : nil
            let error = flags & (1 << 4) != 0 ? try string(&r) : nil
            let mode = flags & (1 << 6) != 0 ? try string(&r) : nil
            let quality: Quality = switch (flags >> 1) & 3 { case 0: .good; case 1: .bad; default: .stale }
            return .reading(Reading(timestamp: WallTime(milliseconds: ms, clockSynced: flags & 1 != 0), device: device, point: point,
                                    value: value, raw: raw, unit: unit, label: label, quality: quality, error: error, mode: mode))
        case .event:
            let ms = Int64(bitPattern: try r.varint())
            let flags = try r.byte()
            let kindName = try string(&r)
            guard let eventKind = Event.Kind(rawValue: kindName) else { throw RecordDecodeError(reason: "unknown event \(kindName)") }
            let device = flags & (1 << 1) != 0 ? try string(&r) : nil
            let bus = flags & (1 << 2) != 0 ? try string(&r) : nil
            let detail = flags & (1 << 3) != 0 ? try string(&r) : nil
            var alarm: AlarmInfo?
            if flags & (1 << 4) != 0 {
                let point = try string(&r)
                guard let level = AlarmLevel(rawValue: try string(&r)) else { throw RecordDecodeError(reason: "unknown alarm level") }
                let parts = try r.byte()
                let severity = parts & 1 != 0 ? try string(&r) : nil
                let value = parts & 2 != 0 ? Double(bitPattern: try r.le(UInt64.self)) : nil
                let setpoint = Double(bitPattern: try r.le(UInt64.self))
                let seq = parts & 4 != 0 ? try r.varint() : nil
                alarm = AlarmInfo(point: point, level: level, severity: severity, value: value, setpoint: setpoint, triggerSeq: seq)
            }
            return .event(Event(timestamp: WallTime(milliseconds: ms, clockSynced: flags & 1 != 0), kind: eventKind,
                                device: device, bus: bus, detail: detail, alarm: alarm))
        }
    }

    private func string(_ r: inout ByteReader) throws(RecordDecodeError) -> String {
        let id = try r.varint()
        guard let text = strings[id] else { throw RecordDecodeError(reason: "dictionary id \(id) not defined in this segment") }
        return text
    }

    private func readRaw(_ r: inout ByteReader) throws(RecordDecodeError) -> RawRegisters {
        switch try r.byte() {
        case 0: return .none
        case 1:
            let count = Int(try r.varint())
            guard count <= 125 else { throw RecordDecodeError(reason: "raw of \(count) words") }
            var words: [UInt16] = []
            for _ in 0..<count { words.append(UInt16(try r.byte()) << 8 | UInt16(try r.byte())) }
            return RawRegisters(words: words)
        case 2: return .bit(false)
        case 3: return .bit(true)
        case 4:
            // Raw text, as journals written while raw was a string could hold; register hex comes back typed.
            let text = try string(&r)
            guard let raw = RawRegisters(hex: text) else { throw RecordDecodeError(reason: "raw text \"\(text)\" is not register hex") }
            return raw
        default: throw RecordDecodeError(reason: "unknown raw kind")
        }
    }
}

/// Signed values as LEB128 varints (`ByteWriter.appendVarint`): zigzag first, so small negatives stay short.
enum Varint {
    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }
}

struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    mutating func byte() throws(RecordDecodeError) -> UInt8 {
        guard offset < bytes.count else { throw RecordDecodeError(reason: "record ends early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws(RecordDecodeError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw RecordDecodeError(reason: "varint too long") }
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func le<T: FixedWidthInteger>(_: T.Type) throws(RecordDecodeError) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { throw RecordDecodeError(reason: "record ends early") }
        defer { offset += size }
        return JournalFormat.readLE(bytes, at: offset)
    }

    mutating func rest() -> UnsafeRawBufferPointer {
        defer { offset = bytes.count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset...])
    }
}

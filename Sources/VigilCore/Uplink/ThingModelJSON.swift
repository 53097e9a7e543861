/// What Alibaba's Alink and China Mobile's OneJSON (OneNET) share: a message
/// `{"id":"…","version":"1.0","params":…}`, properties as
/// `"identifier":{"value":…,"time":ms}`, events with a value object, and the
/// platform's reply `{"id":"…","code":200,…}` as the commit point.
enum ThingModelJSON {
    typealias Item = (seq: UInt64, reading: Reading)

    /// `gas-1`, `gas` → `gas_1_gas`: thing-model identifiers are letters, digits and `_`;
    /// every other character (not byte: `泵` is one) becomes one `_`.
    static func identifier(_ text: String) -> String {
        var text = text
        // Runs for every reading posted: ids of printable ASCII (one byte, one character) go byte by
        // byte, without the Unicode tables that Character's properties consult (40 % of Alink's forwarder).
        let ascii: String? = text.withUTF8 { bytes in
            guard bytes.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
            return String(unsafeUninitializedCapacity: bytes.count) { out in
                for (i, byte) in bytes.enumerated() { out[i] = isIdentifierByte(byte) ? byte : UInt8(ascii: "_") }
                return bytes.count
            }
        }
        return ascii ?? String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"): true
        default: false
        }
    }

    static func header(id: String, to out: inout [UInt8]) {
        RecordJSON.literal(#"{"id":""#, to: &out)
        out.append(contentsOf: id.utf8)
        RecordJSON.literal(#"","version":"1.0""#, to: &out)
    }

    /// `{"value":2.45,"time":1795900000000}`; booleans as 0/1 where the thing model has no bool (Alink).
    static func timedValue(_ r: Reading, boolAsNumber: Bool, to out: inout [UInt8]) {
        RecordJSON.literal(#"{"value":"#, to: &out)
        if boolAsNumber, case .bool(let on)? = r.value { out.append(on ? 0x31 : 0x30) } else { RecordJSON.appendValue(r.value, to: &out) }
        RecordJSON.literal(#","time":"#, to: &out)
        RecordJSON.appendInteger(r.timestamp.milliseconds, to: &out)
        out.append(0x7D)
    }

    /// A batch as both platforms take it: readings with a value (neither has a quality, so a
    /// failed read has nothing to post), split into live ones and history (older than
    /// `historyAfterMs` when sent), and the events, in journal order.
    static func split(_ batch: UplinkBatch, sentAt: WallTime, historyAfterMs: Int64) -> (live: [Item], history: [Item], events: [(seq: UInt64, event: Event)]) {
        var live: [Item] = [], history: [Item] = [], events: [(seq: UInt64, event: Event)] = []
        for stored in batch.records {
            switch stored.record {
            case .reading(let r):
                guard r.value != nil else { continue }
                if sentAt.milliseconds - r.timestamp.milliseconds > historyAfterMs { history.append((stored.seq, r)) } else { live.append((stored.seq, r)) }
            case .event(let e):
                events.append((stored.seq, e))
            }
        }
        return (live, history, events)
    }

    /// Live readings in posts of one owner each, every property at most once in a post:
    /// another owner, or a second poll of a property, starts the next.
    static func posts(_ live: [Item], owner: (Reading) -> String, name: (Reading) -> String) -> [[Item]] {
        var out: [[Item]] = []
        var group: [Item] = []
        var names: Set<String> = []
        for item in live {
            let property = name(item.reading)
            if names.contains(property) || group.first.map({ owner($0.reading) != owner(item.reading) }) == true {
                out.append(group)
                group = []
                names = []
            }
            group.append(item)
            names.insert(property)
        }
        if !group.isEmpty { out.append(group) }
        return out
    }

    /// Alarms as event `alarm`, device state changes as event `device_state` (their fields in
    /// docs/alink.md); nil for the other events, which stay in the journal and `vigil status`.
    static func event(_ e: Event) -> (identifier: String, value: [UInt8])? {
        var value: [UInt8] = [0x7B]
        let identifier: String
        switch e.kind {
        case .alarmRaised, .alarmCleared:
            guard let alarm = e.alarm else { return nil }
            identifier = "alarm"
            RecordJSON.literal(#""device":"#, to: &value); RecordJSON.appendString(e.device ?? "", to: &value)
            RecordJSON.literal(#","point":"#, to: &value); RecordJSON.appendString(alarm.point, to: &value)
            RecordJSON.literal(#","level":"#, to: &value); RecordJSON.appendString(alarm.level.rawValue, to: &value)
            RecordJSON.literal(e.kind == .alarmRaised ? #","state":"raised""# : #","state":"cleared""#, to: &value)
            RecordJSON.literal(#","value":"#, to: &value); RecordJSON.appendValue(alarm.value.map { .double($0) }, to: &value)
            RecordJSON.literal(#","setpoint":"#, to: &value); RecordJSON.appendValue(.double(alarm.setpoint), to: &value)
        case .deviceOnline, .deviceOffline:
            identifier = "device_state"
            RecordJSON.literal(#""device":"#, to: &value); RecordJSON.appendString(e.device ?? "", to: &value)
            RecordJSON.literal(e.kind == .deviceOnline ? #","state":"online""# : #","state":"offline""#, to: &value)
            RecordJSON.literal(#","detail":"#, to: &value); RecordJSON.appendString(e.detail ?? "", to: &value)
        default:
            return nil
        }
        value.append(0x7D)
        return (identifier, value)
    }

    /// A reply `{"id":"…","code":…,"<messageKey>":"…"}`: 200 delivers; what else a code means is the platform's (`refusal`).
    static func reply(topic: String, payload: [UInt8], platform: String, messageKey: String,
                      refusal: (Int, String) -> UplinkOutcome) -> PlatformReply? {
        guard let root = try? JSON5Reader.parse(String(decoding: payload, as: UTF8.self)), case .string(let id)? = root["id"]?.value else { return nil }
        guard case .number(let number)? = root["code"]?.value else {
            return PlatformReply(id: id, outcome: .retry(afterMs: nil, reason: "a reply on \(topic) without a code"))
        }
        let code = Int(number)
        guard code != 200 else { return PlatformReply(id: id, outcome: .delivered, code: code) }
        let message: String = if case .string(let text)? = root[messageKey]?.value { text } else { "" }
        return PlatformReply(id: id, outcome: refusal(code, "\(platform) \(code) \(message) (message \(id) on \(topic))"), code: code)
    }
}

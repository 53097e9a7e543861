/// Batches as HJ 212-2017 packets (docs/hj212.md): each device poll one
/// real-time data packet (CN=2011), each alarm raised or cleared one alarm
/// event (CN=2072, from HJ/T 212-2005, which platforms still take), and, when
/// asked for, minute and hour data (CN=2051, CN=2061: `HJ212Statistics`). Every
/// packet asks for the platform's data answer (Flag=5: version 2017, answer
/// wanted), which is the commit point. Pure: the transport keeps the request
/// numbers and the statistics.
public struct HJ212Format: Sendable {
    /// A monitoring point as the platform knows it: its MN, and the factor
    /// code of each point it sends (points without one are not sent).
    public struct Station: Sendable, Equatable {
        public var mn: String
        public var codes: [String: String]
        public init(mn: String, codes: [String: String]) { self.mn = mn; self.codes = codes }
    }

    /// One packet and the request number (QN) its answer names.
    public struct Packet: Sendable, Equatable {
        public var qn: String
        public var bytes: [UInt8]
    }

    public let systemCode: String
    /// Device id to station.
    private let stations: [String: Station]
    private let utcOffsetMs: Int64
    private let alarmEvents: Bool
    /// Minute and hour data to send besides the real-time data; none by default.
    private let intervals: [HJ212Statistics.Interval]

    public init(systemCode: String, stations: [String: Station], utcOffsetMinutes: Int, alarmEvents: Bool,
                intervals: [HJ212Statistics.Interval] = []) {
        self.systemCode = systemCode; self.stations = stations
        self.utcOffsetMs = Int64(utcOffsetMinutes) * 60_000; self.alarmEvents = alarmEvents
        self.intervals = intervals
    }

    /// What `packets` keeps from batch to batch for the minute and hour data: nothing counted yet.
    public func newStatistics() -> HJ212Statistics {
        HJ212Statistics(intervals: intervals, utcOffsetMinutes: Int(utcOffsetMs / 60_000))
    }

    /// `password`: PW, read from its file by the transport (it may change on site).
    public func packets(for batch: UplinkBatch, password: String, requestNumbers: inout HJ212RequestNumbers,
                        statistics: inout HJ212Statistics, nowMs: Int64) -> [Packet] {
        var packets: [Packet] = []
        var i = 0
        while i < batch.records.count {
            switch batch.records[i].record {
            case .reading(let first):
                // One poll: the readings of one device at one time, stored together.
                var poll = [first]
                i += 1
                while i < batch.records.count, case .reading(let r) = batch.records[i].record, r.device == first.device,
                      r.timestamp.milliseconds == first.timestamp.milliseconds {
                    poll.append(r)
                    i += 1
                }
                packets += intervalData(closedBy: poll, statistics: &statistics, password: password, requestNumbers: &requestNumbers, nowMs: nowMs)
                packets += realTimeData(poll, password: password, requestNumbers: &requestNumbers, nowMs: nowMs)
            case .event(let event):
                i += 1
                if let packet = alarmEvent(event, password: password, requestNumbers: &requestNumbers, nowMs: nowMs) { packets.append(packet) }
            }
        }
        return packets
    }

    /// CN=2011: `DataTime=…;a21026-Rtd=2.45,a21026-Flag=N;…`, split over packets when longer than 1024 bytes.
    private func realTimeData(_ poll: [Reading], password: String, requestNumbers: inout HJ212RequestNumbers, nowMs: Int64) -> [Packet] {
        guard let station = stations[poll[0].device] else { return [] }
        let items: [String] = poll.compactMap { r in
            guard let code = station.codes[r.point] else { return nil }
            let flag = Self.flag(r)
            guard let value = r.value else { return "\(code)-Flag=\(flag)" }
            guard let text = Self.number(value) else { return nil }
            return "\(code)-Rtd=\(text),\(code)-Flag=\(flag)"
        }
        return dataPackets(cn: "2011", mn: station.mn, atMs: poll[0].timestamp.milliseconds, items: items, password: password,
                           requestNumbers: &requestNumbers, nowMs: nowMs)
    }

    /// CN=2051 and CN=2061 of the intervals this poll closed: `DataTime=<start>;a21026-Min=…,a21026-Avg=…,a21026-Max=…,a21026-Flag=N;…`.
    private func intervalData(closedBy poll: [Reading], statistics: inout HJ212Statistics, password: String,
                              requestNumbers: inout HJ212RequestNumbers, nowMs: Int64) -> [Packet] {
        guard !statistics.intervals.isEmpty, let station = stations[poll[0].device] else { return [] }
        let values: [(code: String, flag: String, value: Double?)] = poll.compactMap { r in
            guard let code = station.codes[r.point] else { return nil }
            guard let value = r.value else { return (code, Self.flag(r), nil) }
            guard let number = Self.double(value) else { return nil } // text is not sent
            return (code, Self.flag(r), number)
        }
        guard !values.isEmpty else { return [] }
        return statistics.add(device: poll[0].device, atMs: poll[0].timestamp.milliseconds, values).flatMap { closed in
            dataPackets(cn: closed.cn, mn: station.mn, atMs: closed.startMs, items: closed.items, password: password,
                        requestNumbers: &requestNumbers, nowMs: nowMs)
        }
    }

    /// Data packets of one time: `DataTime=…;` and the items, split over packets when longer than 1024 bytes.
    private func dataPackets(cn: String, mn: String, atMs: Int64, items: [String], password: String,
                             requestNumbers: inout HJ212RequestNumbers, nowMs: Int64) -> [Packet] {
        guard !items.isEmpty else { return [] }
        let dataTime = "DataTime=\(localDigits(atMs, withMilliseconds: false))"
        var packets: [Packet] = []
        var chunk: [String] = []
        func flush() {
            let qn = localDigits(requestNumbers.next(atMs: nowMs), withMilliseconds: true)
            packets.append(packet(qn: qn, cn: cn, mn: mn, password: password, cp: ([dataTime] + chunk).joined(separator: ";")))
            chunk = []
        }
        let overhead = segment(qn: "00000000000000000", cn: cn, mn: mn, password: password, cp: dataTime).count
        var length = overhead
        for item in items {
            if !chunk.isEmpty && length + 1 + item.utf8.count > HJ212Frame.maxDataBytes { flush(); length = overhead }
            chunk.append(item)
            length += 1 + item.utf8.count
        }
        flush()
        return packets
    }

    /// CN=2072: `AlarmTime=…;a21026-Ala=23.5,AlarmType=1` (1 raised, 0 cleared).
    private func alarmEvent(_ event: Event, password: String, requestNumbers: inout HJ212RequestNumbers, nowMs: Int64) -> Packet? {
        guard alarmEvents, event.kind == .alarmRaised || event.kind == .alarmCleared, let alarm = event.alarm,
              let device = event.device, let station = stations[device], let code = station.codes[alarm.point] else { return nil }
        let value = alarm.value.flatMap { Self.number(.double($0)) } ?? ""
        let cp = "AlarmTime=\(localDigits(event.timestamp.milliseconds, withMilliseconds: false));\(code)-Ala=\(value),AlarmType=\(event.kind == .alarmRaised ? 1 : 0)"
        return packet(qn: localDigits(requestNumbers.next(atMs: nowMs), withMilliseconds: true), cn: "2072", mn: station.mn, password: password, cp: cp)
    }

    private func segment(qn: String, cn: String, mn: String, password: String, cp: String) -> [UInt8] {
        Array("QN=\(qn);ST=\(systemCode);CN=\(cn);PW=\(password);MN=\(mn);Flag=5;CP=&&\(cp)&&".utf8)
    }

    private func packet(qn: String, cn: String, mn: String, password: String, cp: String) -> Packet {
        Packet(qn: qn, bytes: HJ212Frame.encode(segment(qn: qn, cn: cn, mn: mn, password: password, cp: cp)))
    }

    /// `yyyyMMddHHmmss[zzz]` in the platform's time zone (HJ 212 times are local; Beijing time by default).
    func localDigits(_ ms: Int64, withMilliseconds: Bool) -> String {
        let digits = WallTime(milliseconds: ms + utcOffsetMs, clockSynced: true).iso8601.filter(\.isNumber)
        return withMilliseconds ? digits : String(digits.prefix(14))
    }

    /// The data flag of HJ 212-2017: N normal, D fault, B communication failure, C calibration, M maintenance.
    static func flag(_ r: Reading) -> String {
        switch r.quality {
        case .bad: return "D"
        case .stale: return "B"
        case .good:
            switch r.mode {
            case nil: return "N"
            case "calibration": return "C"
            default: return "M" // warm-up, inhibit: not measuring
            }
        }
    }

    /// A number to count in minute and hour data (a contact: 1 or 0); nil for text.
    static func double(_ value: PointValue) -> Double? {
        switch value {
        case .int(let v): return Double(v)
        case .uint(let v): return Double(v)
        case .bool(let v): return v ? 1 : 0
        case .string: return nil
        case .float(let v): return Double(v)
        case .double(let v): return v
        }
    }

    /// A plain decimal (platforms do not read exponents); nil for text, which HJ 212 does not carry.
    static func number(_ value: PointValue) -> String? {
        switch value {
        case .int(let v): return String(v)
        case .uint(let v): return String(v)
        case .bool(let v): return v ? "1" : "0"
        case .string: return nil
        case .float(let v): return decimal(Double(v), shortest: v.description)
        case .double(let v): return decimal(v, shortest: v.description)
        }
    }

    private static func decimal(_ v: Double, shortest: String) -> String? {
        guard v.isFinite else { return nil }
        guard shortest.contains("e") else { return shortest }
        // Six decimals hold what a detector resolves; very large values keep their integer part.
        let scaled = (abs(v) * 1_000_000).rounded()
        guard scaled < 9e18 else { return String(Int64(v.rounded())) }
        let micro = Int64(scaled)
        var fraction = String(micro % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let sign = v < 0 && micro != 0 ? "-" : ""
        return fraction.isEmpty ? "\(sign)\(micro / 1_000_000)" : "\(sign)\(micro / 1_000_000).\(fraction)"
    }
}

/// QN: the request number a packet's answer names. HJ 212 makes it the
/// send time in milliseconds; two packets in one millisecond would share it,
/// so each is at least one millisecond after the last.
public struct HJ212RequestNumbers: Sendable {
    private var last: Int64 = 0
    public init() {}
    public mutating func next(atMs nowMs: Int64) -> Int64 {
        last = max(last + 1, nowMs)
        return last
    }
}

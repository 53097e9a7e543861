/// Bytes the uplink put on the wire, per UTC day, for the last 31 days: what the
/// SIM is billed for (`vigil status`: today and the last 30 days). Kept across
/// restarts as text, one `DAY BYTES` line a day (DAY: days since 1970-01-01 UTC).
public struct TrafficLedger: Sendable, Equatable {
    public private(set) var days: [Int64: UInt64] = [:]

    public init() {}

    static let keptDays: Int64 = 31

    public static func day(of time: WallTime) -> Int64 {
        time.milliseconds >= 0 ? time.milliseconds / 86_400_000 : (time.milliseconds + 1) / 86_400_000 - 1
    }

    /// While the clock is not synchronised (a board without RTC boots in 1970), bytes
    /// go to the newest day known, so a wrong date neither makes a day of its own nor
    /// pushes the real ones out.
    public mutating func add(_ bytes: UInt64, at time: WallTime) {
        guard bytes > 0 else { return }
        let newestKnown = days.keys.max()
        let day = time.clockSynced || newestKnown == nil ? Self.day(of: time) : newestKnown!
        days[day, default: 0] += bytes
        // Days too old to be asked about go: older than 31 days before the newest.
        let newest = max(day, newestKnown ?? day)
        days = days.filter { newest - $0.key < Self.keptDays }
    }

    public func today(at time: WallTime) -> UInt64 { days[Self.day(of: time)] ?? 0 }

    /// Today and the 29 days before it.
    public func last30Days(at time: WallTime) -> UInt64 {
        let today = Self.day(of: time)
        return days.filter { today - $0.key >= 0 && today - $0.key < 30 }.values.reduce(0, +)
    }

    public var text: String {
        days.keys.sorted().map { "\($0) \(days[$0]!)\n" }.joined()
    }

    /// Reads what `text` wrote; the lines that are not `DAY BYTES` are skipped and counted.
    public init(parsing text: String) {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let day = Int64(fields[0]), let bytes = UInt64(fields[1]) else { unreadableLines += 1; continue }
            days[day, default: 0] += bytes
        }
    }

    /// Lines of the text it was read from that made no sense (a damaged file).
    public private(set) var unreadableLines = 0
}

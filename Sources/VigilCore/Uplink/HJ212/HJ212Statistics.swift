/// Minute and hour data of HJ 212-2017 (CN=2051, CN=2061): each factor's
/// minimum, average (over time) and maximum over an interval of the
/// platform's clock, from the polls the uplink forwards. An interval is sent
/// with the first poll after it, and only when the uplink saw it begin: the
/// interval in progress when the agent starts may have had readings delivered
/// before, so its figures would be wrong. A value type: the uplink keeps the
/// copy as of its last delivered batch, so a batch sent again counts nothing twice.
public struct HJ212Statistics: Sendable {
    public struct Interval: Sendable, Equatable {
        /// CN=2051 (minute data) or CN=2061 (hour data).
        public var cn: String
        public var ms: Int64
        public static func minutes(_ n: Int) -> Interval { Interval(cn: "2051", ms: Int64(n) * 60_000) }
        public static let hour = Interval(cn: "2061", ms: 3_600_000)
    }

    /// A factor's figures over one interval, from the time each good value held (data flag N)
    /// until the next reading: report by exception sends a value only when it moves, so a value
    /// stands for the polls after it, and the average is over time.
    struct Figures: Sendable {
        var min = Double.infinity, max = -Double.infinity, weightedSum = 0.0, heldMs: Int64 = 0
        /// The data flag of the last reading, which an interval without a good value is sent with.
        var lastFlag = "N"

        mutating func add(_ value: Double, forMs ms: Int64) {
            guard ms > 0 else { return }
            min = Swift.min(min, value)
            max = Swift.max(max, value)
            weightedSum += value * Double(ms)
            heldMs += ms
        }
    }

    /// One device's accumulation over one interval.
    struct Window: Sendable {
        var index: Int64
        var startMs: Int64, endMs: Int64
        var sawItBegin: Bool
        /// Factor code to figures, in the order the codes first came.
        var figures: [String: Figures] = [:]
        var codes: [String] = []

        mutating func add(_ code: String, _ update: (inout Figures) -> Void) {
            if figures[code] == nil { codes.append(code); figures[code] = Figures() }
            update(&figures[code]!)
        }

        /// The part of [from, to) inside this interval, for a value that held from `from` to `to`.
        mutating func hold(_ code: String, _ value: Double, from: Int64, to: Int64) {
            let ms = Swift.min(to, endMs) - Swift.max(from, startMs)
            if ms > 0 { add(code) { $0.add(value, forMs: ms) } }
        }
    }

    /// One device: its windows (one per interval) and the good value each factor holds, since when.
    struct Device: Sendable {
        var windows: [Window?]
        var holds: [String: (value: Double, sinceMs: Int64)] = [:]
        /// Its factor codes in the order they first came (the order their figures are sent in).
        var codes: [String] = []
        var lastMs = Int64.min
    }

    /// An interval closed, to be sent.
    public struct Closed: Sendable, Equatable {
        public var device: String
        public var cn: String
        /// Its start, in UTC milliseconds (the interval itself is on the platform's clock).
        public var startMs: Int64
        /// `a21026-Min=…,a21026-Avg=…,a21026-Max=…,a21026-Flag=N` per factor.
        public var items: [String]
    }

    public let intervals: [Interval]
    private let utcOffsetMs: Int64
    private var devices: [String: Device] = [:]

    public init(intervals: [Interval], utcOffsetMinutes: Int) {
        self.intervals = intervals
        self.utcOffsetMs = Int64(utcOffsetMinutes) * 60_000
    }

    /// Counts one device poll (factor code, data flag, number), and returns the intervals it closed.
    mutating func add(device id: String, atMs ms: Int64, _ values: [(code: String, flag: String, value: Double?)]) -> [Closed] {
        guard !intervals.isEmpty else { return [] }
        var device = devices[id] ?? Device(windows: Array(repeating: nil, count: intervals.count))
        guard ms >= device.lastMs else { return [] } // the clock went back: not counted
        device.lastMs = ms
        var closed: [Closed] = []
        for (i, interval) in intervals.enumerated() {
            let index = (ms + utcOffsetMs).floorDivided(by: interval.ms)
            if var window = device.windows[i], index > window.index {
                for code in device.codes {
                    if let hold = device.holds[code] { window.hold(code, hold.value, from: hold.sinceMs, to: window.endMs) }
                }
                if window.sawItBegin, let items = Self.items(window) {
                    closed.append(Closed(device: id, cn: interval.cn, startMs: window.startMs, items: items))
                }
                device.windows[i] = Self.window(index, interval, offsetMs: utcOffsetMs, sawItBegin: true)
            }
            if device.windows[i] == nil { device.windows[i] = Self.window(index, interval, offsetMs: utcOffsetMs, sawItBegin: false) }
        }
        for (code, flag, value) in values {
            if !device.codes.contains(code) { device.codes.append(code) }
            for i in device.windows.indices {
                if let hold = device.holds[code] { device.windows[i]!.hold(code, hold.value, from: hold.sinceMs, to: ms) }
                device.windows[i]!.add(code) { $0.lastFlag = flag }
            }
            device.holds[code] = flag == "N" ? value.map { ($0, ms) } : nil
        }
        devices[id] = device
        return closed
    }

    private static func window(_ index: Int64, _ interval: Interval, offsetMs: Int64, sawItBegin: Bool) -> Window {
        let start = index * interval.ms - offsetMs
        return Window(index: index, startMs: start, endMs: start + interval.ms, sawItBegin: sawItBegin)
    }

    private static func items(_ window: Window) -> [String]? {
        let items = window.codes.compactMap { code -> String? in
            guard let f = window.figures[code] else { return nil }
            guard f.heldMs > 0 else { return "\(code)-Flag=\(f.lastFlag)" }
            let average = (f.weightedSum / Double(f.heldMs) * 1_000_000).rounded() / 1_000_000
            guard let min = HJ212Format.number(.double(f.min)), let avg = HJ212Format.number(.double(average)),
                  let max = HJ212Format.number(.double(f.max)) else { return nil }
            return "\(code)-Min=\(min),\(code)-Avg=\(avg),\(code)-Max=\(max),\(code)-Flag=N"
        }
        return items.isEmpty ? nil : items
    }
}

private extension Int64 {
    /// Rounds toward minus infinity (times before 1970 stay in their interval).
    func floorDivided(by d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}

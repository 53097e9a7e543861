import Synchronization
import VigilCore

/// The newest reading of every point and the recent alarm events, kept by the
/// journal sink for `vigil values` and `vigil alarms`.
public final class LatestValues: Sendable {
    private struct PointKey: Hashable { var device: String; var point: String }
    private let state = Mutex<(readings: [PointKey: Reading], alarms: [Event])>(([:], []))
    static let recentAlarms = 100

    public init() {}

    func record(_ records: [Record]) {
        state.withLock { s in
            for record in records {
                switch record {
                case .reading(let r): s.readings[PointKey(device: r.device, point: r.point)] = r
                case .event(let e) where e.alarm != nil || e.kind == .outputChanged:
                    s.alarms.append(e)
                    if s.alarms.count > Self.recentAlarms { s.alarms.removeFirst(s.alarms.count - Self.recentAlarms) }
                case .event: break
                }
            }
        }
    }

    /// Every point's newest reading (of one device, or all), by device then point.
    public func readings(device: String? = nil) -> [Reading] {
        state.withLock { $0.readings.values.filter { device == nil || $0.device == device } }
            .sorted { ($0.device, $0.point) < ($1.device, $1.point) }
    }

    /// Alarm and output events, oldest first.
    public var recentAlarmEvents: [Event] { state.withLock { $0.alarms } }
}

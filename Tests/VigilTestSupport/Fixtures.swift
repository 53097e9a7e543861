import VigilCore

/// The wall-clock time fixtures are stamped with: an arbitrary moment, never
/// compared with the real date. A test whose subject decides against "now"
/// gives it a `ManualWallClock` set relative to this.
public let fixtureEpochMs: Int64 = 1_795_900_000_000

/// Records for journal and uplink tests.
public func reading(_ n: Int, device: String = "gas-1", value: PointValue? = nil, quality: Quality = .good, at time: WallTime? = nil) -> Record {
    .reading(Reading(timestamp: time ?? WallTime(milliseconds: fixtureEpochMs + Int64(n), clockSynced: n % 2 == 0), device: device,
                     point: "gas", value: value ?? .float(Float(n) / 4), raw: RawRegisters(words: [0x41bb, 0x0000]), unit: "%LEL",
                     label: nil, quality: quality, error: quality == .good ? nil : "timeout"))
}

public func event(_ n: Int) -> Record {
    .event(Event(timestamp: WallTime(milliseconds: fixtureEpochMs + Int64(n), clockSynced: true), kind: .deviceOffline,
                 device: "gas-1", bus: "rs485-1", detail: "timeout \(n)"))
}

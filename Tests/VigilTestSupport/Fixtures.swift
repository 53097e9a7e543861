import VigilCore

/// Records for journal and uplink tests.
public func reading(_ n: Int, device: String = "gas-1", value: PointValue? = nil, quality: Quality = .good) -> Record {
    .reading(Reading(timestamp: WallTime(milliseconds: 1_795_900_000_000 + Int64(n), clockSynced: n % 2 == 0), device: device,
                     point: "gas", value: value ?? .float(Float(n) / 4), raw: "41bb 0000", unit: "%LEL",
                     label: nil, quality: quality, error: quality == .good ? nil : "timeout"))
}

public func event(_ n: Int) -> Record {
    .event(Event(timestamp: WallTime(milliseconds: 1_795_900_000_000 + Int64(n), clockSynced: true), kind: .deviceOffline,
                 device: "gas-1", bus: "rs485-1", detail: "timeout \(n)"))
}


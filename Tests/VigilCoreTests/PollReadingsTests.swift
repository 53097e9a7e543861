import XCTest
@testable import VigilCore
import VigilTestSupport

/// A poll's decoded values as readings: quality, the heartbeat, the detector's mode.
final class PollReadingsTests: XCTestCase {
    func point(_ id: String, role: PointRole? = nil, unit: String? = nil) -> PointSpec {
        var p = PointSpec(id: id, table: .holding, address: 0, type: .uint16)
        p.role = role
        p.unit = unit
        return p
    }

    func device(_ points: [PointSpec]) -> DeviceSpec {
        DeviceSpec(id: "gas-1", bus: "b", unit: 1, points: points)
    }

    func at(_ ms: Int64) -> WallTime { WallTime(milliseconds: fixtureEpochMs + ms, clockSynced: true) }

    func readings(_ records: [Record]) -> [Reading] {
        records.compactMap { if case .reading(let r) = $0 { r } else { nil } }
    }

    func testGoodAndBadValuesWithTheirUnitsAndErrors() {
        let poll = PollReadings(device([point("gas", unit: "%LEL"), point("code")]))
        let r = readings(poll.readings([DecodedPoint(value: .double(12.5), raw: RawRegisters(words: [0x007d]), label: nil, error: nil),
                                        DecodedPoint(value: nil, raw: .none, label: nil, error: "timeout")], at: at(0)))
        XCTAssertEqual(r.map(\.point), ["gas", "code"])
        XCTAssertEqual(r[0].quality, .good); XCTAssertEqual(r[0].unit, "%LEL"); XCTAssertEqual(r[0].value, .double(12.5))
        XCTAssertEqual(r[1].quality, .bad); XCTAssertEqual(r[1].error, "timeout"); XCTAssertNil(r[1].value)
        XCTAssertTrue(r.allSatisfy { $0.device == "gas-1" && $0.timestamp == at(0) && $0.mode == nil })
    }

    /// Moved from the agent's PolledDeviceTests with its assertions.
    func testReadingsCarryTheDetectorsModeAndGoStaleWhenItsHeartbeatStops() {
        var mode = PointSpec(id: "state", table: .holding, address: 0, type: .uint16, labels: [1: "normal", 3: "inhibit"])
        mode.role = .mode
        var beat = PointSpec(id: "beat", table: .holding, address: 1, type: .uint16)
        beat.role = .heartbeat
        let gas = PointSpec(id: "gas", table: .holding, address: 2, type: .uint16)
        let spec = DeviceSpec(id: "xcl", bus: "b", unit: 1, points: [mode, beat, gas])
        let decoder = PointDecoder(points: spec.points, blocks: ReadPlanner.plan(spec.points, maxRegisters: 125, maxGap: spec.maxGap))
        let device = PollReadings(spec)
        func poll(_ state: UInt16, _ heartbeat: UInt16, atSecond s: Int64) -> [Reading] {
            readings(device.readings(decoder.decode([.registers([state, heartbeat, 7])]), at: WallTime(milliseconds: s * 1000, clockSynced: true)))
        }
        XCTAssertEqual(poll(1, 10, atSecond: 0).map(\.mode), [nil, nil, nil])
        XCTAssertEqual(poll(3, 11, atSecond: 1).map(\.mode), ["inhibit", "inhibit", "inhibit"], "inhibit flags every reading of the poll")
        XCTAssertEqual(poll(1, 11, atSecond: 20).map(\.quality), [.good, .good, .good], "unchanged for 19 s: not yet stale")
        let stuck = poll(1, 11, atSecond: 40)
        XCTAssertEqual(stuck.map(\.quality), [.stale, .stale, .stale])
        XCTAssertEqual(stuck.last?.error, "heartbeat register not advancing")
        XCTAssertEqual(stuck.last?.value, .uint(7), "stale keeps the value: the detector answers")
        XCTAssertEqual(poll(1, 12, atSecond: 41).map(\.quality), [.good, .good, .good], "it advances again")
    }
}

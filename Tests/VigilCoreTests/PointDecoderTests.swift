import XCTest
@testable import VigilCore

final class PointDecoderTests: XCTestCase {
    func testAFailedRequestFailsOnlyItsOwnPoints() {
        let points = [PointSpec(id: "a", table: .holding, address: 0, type: .uint16),
                      PointSpec(id: "b", table: .input, address: 0, type: .int16)]
        let decoder = PointDecoder(points: points, blocks: ReadPlanner.plan(points, maxRegisters: 125, maxGap: 8))
        let holdingFirst = decoder.blocks[0].table == .holding
        let results: [BlockResult] = holdingFirst ? [.registers([7]), .failed("timeout")] : [.failed("timeout"), .registers([7])]
        let decoded = decoder.decode(results)
        XCTAssertEqual(decoded[0].value, .uint(7))
        XCTAssertNil(decoded[1].value)
        XCTAssertEqual(decoded[1].error, "timeout")
    }

    func testScaleOffsetDecimalsLabelsAndBits() {
        var level = PointSpec(id: "level", table: .holding, address: 4, type: .int16)
        level.decimalsFrom = "dec"
        let points = [
            PointSpec(id: "unit", table: .holding, address: 2, type: .uint16, labels: [7: "mH2O"]),
            PointSpec(id: "dec", table: .holding, address: 3, type: .uint16),
            level,
            PointSpec(id: "temp", table: .holding, address: 5, type: .int16, scale: 0.1, offset: -40),
            PointSpec(id: "al2", table: .holding, address: 6, type: .bool, bit: 1),
            PointSpec(id: "gas", table: .holding, address: 7, type: .float32, order: .cdab),
        ]
        let decoder = PointDecoder(points: points, blocks: ReadPlanner.plan(points, maxRegisters: 125, maxGap: 8))
        let words: [UInt16] = [7, 2, 1234, 654, 0b10, 0x0000, 0x41BB] // 0x41BB0000 = 23.375
        let d = decoder.decode([.registers(words)])
        XCTAssertEqual(d[0].value, .uint(7)); XCTAssertEqual(d[0].label, "mH2O")
        XCTAssertEqual(d[2].value, .double(12.34)); XCTAssertEqual(d[2].raw, RawRegisters(words: [0x04d2]))
        XCTAssertEqual(d[3].value, .double(25.4))
        XCTAssertEqual(d[4].value, .bool(true))
        XCTAssertEqual(d[5].value, .float(23.375)); XCTAssertEqual(d[5].raw.words, [0x0000, 0x41bb])
    }

    func testBadDecimalsSourceMakesTheValueBad() {
        var level = PointSpec(id: "level", table: .holding, address: 1, type: .int16)
        level.decimalsFrom = "dec"
        let points = [PointSpec(id: "dec", table: .input, address: 0, type: .uint16), level]
        let decoder = PointDecoder(points: points, blocks: ReadPlanner.plan(points, maxRegisters: 125, maxGap: 8))
        let results: [BlockResult] = decoder.blocks.map { $0.table == .input ? .failed("exception 2 (illegal data address)") : .registers([500]) }
        let d = decoder.decode(results)
        XCTAssertEqual(d[1].error, "decimals_from dec: exception 2 (illegal data address)")
    }

    func testNaNFromADeviceIsBadNotAValue() {
        let points = [PointSpec(id: "gas", table: .holding, address: 0, type: .float32)]
        let decoder = PointDecoder(points: points, blocks: ReadPlanner.plan(points, maxRegisters: 125, maxGap: 8))
        let d = decoder.decode([.registers([0x7FC0, 0x0000])])
        XCTAssertNil(d[0].value)
        XCTAssertEqual(d[0].error, "the device sent NaN (sensor fault?)")
    }

    func testShortResponseIsBad() {
        let points = [PointSpec(id: "x", table: .holding, address: 0, type: .uint32)]
        let decoder = PointDecoder(points: points, blocks: ReadPlanner.plan(points, maxRegisters: 125, maxGap: 8))
        XCTAssertEqual(decoder.decode([.registers([1])])[0].error, "short response")
    }
}

import XCTest
@testable import VigilCore

final class ReadPlannerTests: XCTestCase {
    func p(_ id: String, _ table: RegisterTable, _ address: Int, _ type: ValueType = .uint16) -> PointSpec {
        PointSpec(id: id, table: table, address: address, type: type)
    }

    func testAdjacentPointsMergeIntoOneRequest() {
        let blocks = ReadPlanner.plan([p("a", .holding, 0), p("b", .holding, 1, .float32), p("c", .holding, 3)], maxRegisters: 125, maxGap: 8)
        XCTAssertEqual(blocks, [ReadBlock(table: .holding, start: 0, count: 4, pointIndexes: [0, 1, 2])])
    }

    func testGapWithinMaxGapMergesBeyondItSplits() {
        let points = [p("a", .holding, 0), p("b", .holding, 9), p("c", .holding, 19)]
        // a ends at 1; b starts 8 later (merge); b ends at 10, c starts 9 later (split).
        let blocks = ReadPlanner.plan(points, maxRegisters: 125, maxGap: 8)
        XCTAssertEqual(blocks.map(\.start), [0, 19])
        XCTAssertEqual(blocks.map(\.count), [10, 1])
        XCTAssertEqual(ReadPlanner.plan(points, maxRegisters: 125, maxGap: 0).count, 3)
    }

    func testRequestsNeverExceedMaxRegisters() {
        let points = (0..<100).map { p("p\($0)", .input, $0 * 2, .float32) } // 200 registers
        let blocks = ReadPlanner.plan(points, maxRegisters: 125, maxGap: 8)
        XCTAssertEqual(blocks.map(\.count), [124, 76])
        XCTAssertTrue(ReadPlanner.plan(points, maxRegisters: 10, maxGap: 8).allSatisfy { $0.count <= 10 })
        XCTAssertEqual(blocks.flatMap(\.pointIndexes).sorted(), Array(0..<100))
    }

    func testTablesAreNeverMixed() {
        let blocks = ReadPlanner.plan([p("h", .holding, 0), p("i", .input, 1), p("c", .coil, 0), p("d", .discrete, 0)], maxRegisters: 125, maxGap: 8)
        XCTAssertEqual(Set(blocks.map(\.table)), [.holding, .input, .coil, .discrete])
        XCTAssertEqual(blocks.count, 4)
    }

    func testBitTablesAllow2000BitsAndCountGapsIn16Bits() {
        let far = ReadPlanner.plan([p("a", .coil, 0, .bool), p("b", .coil, 1999, .bool)], maxRegisters: 125, maxGap: 200)
        XCTAssertEqual(far.map(\.count), [2000])
        let tooFar = ReadPlanner.plan([p("a", .coil, 0, .bool), p("b", .coil, 2000, .bool)], maxRegisters: 125, maxGap: 200)
        XCTAssertEqual(tooFar.count, 2)
        let gap = ReadPlanner.plan([p("a", .discrete, 0, .bool), p("b", .discrete, 129, .bool)], maxRegisters: 125, maxGap: 8)
        XCTAssertEqual(gap.count, 1) // 128 bits apart = 8 registers
    }

    func testPointsSharingARegisterShareTheRequest() {
        var a = p("al1", .holding, 5, .bool); a.bit = 0
        var b = p("al2", .holding, 5, .bool); b.bit = 1
        XCTAssertEqual(ReadPlanner.plan([a, b], maxRegisters: 125, maxGap: 0), [ReadBlock(table: .holding, start: 5, count: 1, pointIndexes: [0, 1])])
    }
}

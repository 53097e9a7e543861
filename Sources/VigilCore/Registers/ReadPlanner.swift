/// One Modbus read request and the points it serves.
public struct ReadBlock: Sendable, Equatable {
    public var table: RegisterTable
    public var start: Int
    /// Registers, or bits in a bit table.
    public var count: Int
    /// Indexes into the device's point list.
    public var pointIndexes: [Int]

    public var end: Int { start + count }
}

/// Merges a device's points into as few requests as possible: same table,
/// adjacent or at most `maxGap` registers apart, at most `maxRegisters`
/// registers (or 2000 bits) per request.
public enum ReadPlanner {
    public static let maxBitsPerRequest = 2000

    public static func plan(_ points: [PointSpec], maxRegisters: Int, maxGap: Int) -> [ReadBlock] {
        var blocks: [ReadBlock] = []
        for table in RegisterTable.allCases {
            let indexes = points.indices.filter { points[$0].table == table }
                .sorted { (points[$0].address, points[$0].width) < (points[$1].address, points[$1].width) }
            let limit = table.isBitTable ? maxBitsPerRequest : maxRegisters
            // The gap is counted in registers; in a bit table that is 16 bits each.
            let gap = table.isBitTable ? maxGap * 16 : maxGap
            var current: ReadBlock?
            for i in indexes {
                let p = points[i]
                let pointEnd = p.address + p.width
                if var block = current {
                    let newEnd = max(block.end, pointEnd)
                    if p.address - block.end <= gap && newEnd - block.start <= limit {
                        block.count = newEnd - block.start
                        block.pointIndexes.append(i)
                        current = block
                        continue
                    }
                    blocks.append(block)
                }
                current = ReadBlock(table: table, start: p.address, count: p.width, pointIndexes: [i])
            }
            if let block = current { blocks.append(block) }
        }
        return blocks
    }
}

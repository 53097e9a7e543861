/// Aligned columns for a terminal: the header, then one line a row.
struct Table {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: String...) { self.header = header }

    mutating func add(_ cells: String...) { rows.append(cells) }
    mutating func add(_ cells: [String]) { rows.append(cells) }

    var text: String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(widths[i] + 1) }.joined()
        }.joined(separator: "\n")
    }
}

/// "3.2 s", "4 min", "2 h": an age for a human.
func age(_ seconds: Double?) -> String {
    guard let s = seconds else { return "-" }
    if s < 60 { return String(format1: s) + " s" }
    if s < 3600 { return "\(Int(s / 60)) min" }
    if s < 86_400 { return "\(Int(s / 3600)) h" }
    return "\(Int(s / 86_400)) d"
}


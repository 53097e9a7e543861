/// The closest of `candidates` to `word`, when it is close enough to be a
/// likely typo (or `word` starts it: `float` for `float32`): the "did you
/// mean" of config errors and of the command line.
public func closestMatch(to word: String, in candidates: [String]) -> String? {
    let lowered = word.lowercased()
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(lowered, candidate.lowercased())
        if best == nil || distance < best!.1 { best = (candidate, distance) }
    }
    if let prefixed = candidates.first(where: { $0.lowercased().hasPrefix(lowered) }), lowered.count >= 2,
       candidates.filter({ $0.lowercased().hasPrefix(lowered) }).count == 1 { return prefixed }
    guard let (match, distance) = best else { return nil }
    return distance <= max(2, match.count / 3) ? match : nil
}

private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var row = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        row[0] = i
        for j in 1...b.count {
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &row)
    }
    return previous[b.count]
}

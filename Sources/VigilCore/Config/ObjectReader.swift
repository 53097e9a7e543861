/// Reads the members of one JSON5 object for validation: every read names the
/// JSON path of what it reads, and every problem goes to `Diagnostics` instead
/// of stopping, so a config check reports all errors at once.
public struct ObjectReader {
    public let node: JSONNode
    public let path: String
    public let diagnostics: Diagnostics
    private let members: [JSONNode.Member]

    /// Returns nil (and reports) when `node` is not an object. Unknown keys are
    /// reported with the closest known key.
    public init?(_ node: JSONNode, path: String, diagnostics: Diagnostics, keys: [String]) {
        guard case .object(let members) = node.value else {
            diagnostics.report(path, at: node.location, "expected an object, found \(node.kindName)")
            return nil
        }
        self.node = node
        self.path = path
        self.diagnostics = diagnostics
        self.members = members
        for member in members where !keys.contains(member.key) {
            let hint = closestMatch(to: member.key, in: keys).map { "; did you mean \"\($0)\"?" } ?? "; known keys: \(keys.joined(separator: ", "))"
            diagnostics.report(childPath(member.key), at: member.keyLocation, "unknown key\(hint)")
        }
    }

    public func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func has(_ key: String) -> Bool { members.contains { $0.key == key } }

    public func node(_ key: String) -> JSONNode? {
        guard let member = members.first(where: { $0.key == key }) else { return nil }
        if case .null = member.value.value { return nil }
        return member.value
    }

    public func location(of key: String) -> SourceLocation? { node(key)?.location ?? node.location }

    public func report(_ key: String, _ message: String) {
        diagnostics.report(childPath(key), at: location(of: key), message)
    }

    private func missing(_ key: String, _ expected: String) {
        diagnostics.report(childPath(key), at: node.location, "is required (\(expected))")
    }

    public func string(_ key: String, required: Bool = false, nonEmpty: Bool = true) -> String? {
        guard let n = node(key) else {
            if required { missing(key, "a string") }
            return nil
        }
        guard case .string(let s) = n.value else {
            report(key, "expected a string, found \(n.kindName)")
            return nil
        }
        if nonEmpty && s.isEmpty { report(key, "must not be empty"); return nil }
        return s
    }

    public func number(_ key: String, required: Bool = false, range: ClosedRange<Double>? = nil) -> Double? {
        guard let n = node(key) else {
            if required { missing(key, "a number") }
            return nil
        }
        guard case .number(let v) = n.value, v.isFinite else {
            report(key, "expected a finite number, found \(n.kindName)")
            return nil
        }
        if let range, !range.contains(v) {
            report(key, "\(format(v)) is outside \(format(range.lowerBound))…\(format(range.upperBound))")
            return nil
        }
        return v
    }

    public func integer(_ key: String, required: Bool = false, range: ClosedRange<Int>) -> Int? {
        guard let n = node(key) else {
            if required { missing(key, "a whole number in \(range.lowerBound)…\(range.upperBound)") }
            return nil
        }
        guard case .number(let v) = n.value, v.isFinite, v.rounded() == v, abs(v) < 9.0e15 else {
            report(key, "expected a whole number, found \(describe(n))")
            return nil
        }
        let i = Int(v)
        guard range.contains(i) else {
            report(key, "\(i) is outside \(range.lowerBound)…\(range.upperBound)")
            return nil
        }
        return i
    }

    public func bool(_ key: String) -> Bool? {
        guard let n = node(key) else { return nil }
        guard case .bool(let b) = n.value else {
            report(key, "expected true or false, found \(n.kindName)")
            return nil
        }
        return b
    }

    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, required: Bool = false, as _: T.Type = T.self) -> T? where T.RawValue == String {
        let options = T.allCases.map(\.rawValue)
        guard let n = node(key) else {
            if required { missing(key, "one of \(options.joined(separator: ", "))") }
            return nil
        }
        guard case .string(let s) = n.value else {
            report(key, "expected one of \(options.joined(separator: ", ")), found \(n.kindName)")
            return nil
        }
        if let v = T(rawValue: s) { return v }
        let hint = closestMatch(to: s, in: options).map { "; did you mean \"\($0)\"?" } ?? ""
        report(key, "\"\(s)\" is not one of \(options.joined(separator: ", "))\(hint)")
        return nil
    }

    /// The elements of an array member with their paths; reports a non-array.
    public func array(_ key: String, required: Bool = false) -> [(node: JSONNode, path: String)]? {
        guard let n = node(key) else {
            if required { missing(key, "an array") }
            return nil
        }
        guard case .array(let items) = n.value else {
            report(key, "expected an array, found \(n.kindName)")
            return nil
        }
        return items.enumerated().map { ($0.element, "\(childPath(key))[\($0.offset)]") }
    }

    public func object(_ key: String, keys: [String]) -> ObjectReader? {
        guard let n = node(key) else { return nil }
        return ObjectReader(n, path: childPath(key), diagnostics: diagnostics, keys: keys)
    }

    /// The raw members of an object member whose keys are free-form (such as `enum`).
    public func freeObject(_ key: String) -> [JSONNode.Member]? {
        guard let n = node(key) else { return nil }
        guard case .object(let members) = n.value else {
            report(key, "expected an object, found \(n.kindName)")
            return nil
        }
        return members
    }

    private func describe(_ n: JSONNode) -> String {
        if case .number(let v) = n.value { return format(v) }
        return n.kindName
    }
}

/// Numbers in messages: whole numbers without a decimal point.
func format(_ v: Double) -> String {
    if v.isFinite && v.rounded() == v && abs(v) < 1e15 { return String(Int(v)) }
    return String(v)
}

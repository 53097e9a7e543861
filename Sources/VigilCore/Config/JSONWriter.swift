/// Compact JSON text for a parsed node (the receiver re-emits what it parsed).
public enum JSONWriter {
    public static func append(_ node: JSONNode, to out: inout [UInt8]) {
        switch node.value {
        case .null: RecordJSON.literal("null", to: &out)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .string(let s): RecordJSON.appendString(s, to: &out)
        case .number(let d):
            if d.isFinite && d.rounded() == d && abs(d) < 9_007_199_254_740_992 {
                RecordJSON.appendInteger(Int64(d), to: &out)
            } else if d.isFinite {
                out.append(contentsOf: d.description.utf8)
            } else {
                RecordJSON.literal("null", to: &out)
            }
        case .array(let items):
            out.append(0x5B)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(0x2C) }
                append(item, to: &out)
            }
            out.append(0x5D)
        case .object(let members):
            out.append(0x7B)
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(0x2C) }
                RecordJSON.appendString(member.key, to: &out)
                out.append(0x3A)
                append(member.value, to: &out)
            }
            out.append(0x7D)
        }
    }

    public static func text(_ node: JSONNode) -> String {
        var out: [UInt8] = []
        append(node, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

extension JSONNode {
    /// The member `key` of an object node.
    public subscript(key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        return members.first { $0.key == key }?.value
    }
}

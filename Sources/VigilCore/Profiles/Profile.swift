/// A sensor model: its register map, units and recommended alarm setpoints.
public struct Profile: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case combustibleGas = "combustible_gas"
        case toxicGas = "toxic_gas"
        case waterLevel = "water_level"
        case smoke
    }

    public var name: String
    public var file: String
    public var model: String
    public var manufacturer: String
    public var source: String
    public var kind: Kind
    /// The point that carries the measurement (or the alarm bit, for smoke detectors).
    public var primary: String
    /// Occupational exposure limit for toxic gases, in the primary point's unit.
    public var oel: Double?
    public var points: [PointSpec]

    public var primaryPoint: PointSpec? { points.first { $0.id == primary } }

    static let keys = ["model", "manufacturer", "source", "kind", "primary", "oel", "notes", "points"]

    static func parse(_ root: JSONNode, name: String, file: String, diagnostics: Diagnostics) -> Profile? {
        guard let r = ObjectReader(root, path: "", diagnostics: diagnostics, keys: keys) else { return nil }
        let model = r.string("model", required: true)
        let manufacturer = r.string("manufacturer", required: true)
        let source = r.string("source", required: true)
        let kind = r.choice("kind", required: true, as: Kind.self)
        let primary = r.string("primary", required: true)
        let oel = r.number("oel", range: 0...1e9)
        _ = r.string("notes")
        var points: [PointSpec] = []
        for (node, path) in r.array("points", required: true) ?? [] {
            if let point = PointParser.parse(node, path: path, diagnostics: diagnostics) { points.append(point) }
        }
        PointSetChecks.checkDuplicates(locations: r.array("points") ?? [], diagnostics: diagnostics)
        PointSetChecks.checkDecimalsSources(points, pathPrefix: "points", locations: r.array("points") ?? [], diagnostics: diagnostics)
        if let primary, !(r.array("points") ?? []).isEmpty, !points.isEmpty, !points.contains(where: { $0.id == primary }) {
            r.report("primary", "no point has the id \"\(primary)\"")
        }
        guard let model, let manufacturer, let source, let kind, let primary else { return nil }
        return Profile(name: name, file: file, model: model, manufacturer: manufacturer, source: source,
                       kind: kind, primary: primary, oel: oel, points: points)
    }
}

/// Checks across the points of one device or profile: unique ids, `decimals_from` targets.
enum PointSetChecks {
    private static func place(of id: String, in locations: [(node: JSONNode, path: String)], fallback: String) -> (SourceLocation?, String) {
        for (node, path) in locations {
            if case .object(let members) = node.value,
               let m = members.first(where: { $0.key == "id" }), case .string(id) = m.value.value {
                return (m.value.location, path)
            }
        }
        return (nil, fallback)
    }

    /// Reports every point whose id an earlier point already has.
    static func checkDuplicates(locations: [(node: JSONNode, path: String)], diagnostics: Diagnostics) {
        var seen = Set<String>()
        for (node, path) in locations {
            guard case .object(let members) = node.value, let m = members.first(where: { $0.key == "id" }),
                  case .string(let id) = m.value.value else { continue }
            if !seen.insert(id).inserted {
                diagnostics.report("\(path).id", at: m.value.location, "duplicate point id \"\(id)\"")
            }
        }
    }

    static func checkDecimalsSources(_ points: [PointSpec], pathPrefix: String, locations: [(node: JSONNode, path: String)], diagnostics: Diagnostics) {
        for point in points {
            guard let source = point.decimalsFrom else { continue }
            let (loc, path) = place(of: point.id, in: locations, fallback: pathPrefix)
            if source == point.id {
                diagnostics.report("\(path).decimals_from", at: loc, "a point cannot take its decimals from itself")
            } else if let target = points.first(where: { $0.id == source }) {
                if target.decimalsFrom != nil || [.float32, .float64, .string, .bool].contains(target.type) {
                    diagnostics.report("\(path).decimals_from", at: loc, "\"\(source)\" must be a plain integer point")
                }
            } else {
                let hint = closestMatch(to: source, in: points.map(\.id)).map { "; did you mean \"\($0)\"?" } ?? ""
                diagnostics.report("\(path).decimals_from", at: loc, "no point has the id \"\(source)\"\(hint)")
            }
        }
    }
}

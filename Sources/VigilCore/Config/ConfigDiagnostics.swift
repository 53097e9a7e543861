/// One problem found in a config, board or profile file, with where it is.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var location: SourceLocation?
    /// The JSON path, e.g. `devices[2].points[0].address`; empty for the whole file.
    public var path: String
    public var message: String

    public var description: String {
        let place = location.map { "\(file):\($0.line):\($0.column)" } ?? file
        return path.isEmpty ? "\(place): \(message)" : "\(place): \(path): \(message)"
    }
}

/// Every problem found while loading a config: loading never stops at the first.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigIssue]
    public init(_ issues: [ConfigIssue]) { self.issues = issues }
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Collects issues while one file is validated.
public final class Diagnostics {
    public let file: String
    public private(set) var issues: [ConfigIssue] = []

    public init(file: String) { self.file = file }

    public func report(_ path: String, at location: SourceLocation?, _ message: String) {
        issues.append(ConfigIssue(file: file, location: location, path: path, message: message))
    }

    public func absorb(_ other: [ConfigIssue]) { issues.append(contentsOf: other) }
}

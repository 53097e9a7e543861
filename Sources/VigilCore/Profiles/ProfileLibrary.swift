/// Finds definition files (profiles, boards) by name — `<name>.json5` in one
/// of the directories, the first directory winning — or by path.
public struct DefinitionFiles: Sendable {
    public var directories: [String]

    public init(directories: [String]) { self.directories = directories }

    /// Names of every definition in the directories, first directory wins.
    public func names() -> [String] {
        var names: [String] = []
        for dir in directories {
            for entry in directoryEntries(dir) where entry.hasSuffix(".json5") {
                let name = String(entry.dropLast(6))
                if !names.contains(name) { names.append(name) }
            }
        }
        return names.sorted()
    }

    /// The file a reference points at: a path (contains '/' or ends in .json5,
    /// relative to `baseDirectory`) or a name looked up in the directories.
    public func resolve(_ reference: String, relativeTo baseDirectory: String) -> String? {
        if reference.contains("/") || reference.hasSuffix(".json5") {
            let path = reference.hasPrefix("/") ? reference : "\(baseDirectory)/\(reference)"
            return fileExists(path) ? path : nil
        }
        for dir in directories where fileExists("\(dir)/\(reference).json5") {
            return "\(dir)/\(reference).json5"
        }
        return nil
    }

    /// Reads and parses one definition file, reporting as `ConfigErrors`.
    func read<T>(file: String, parse: (JSONNode, Diagnostics) -> T?) -> Result<T, ConfigErrors> {
        let text: String
        do { text = try readTextFile(file) } catch {
            return .failure(ConfigErrors([ConfigIssue(file: file, location: nil, path: "", message: "cannot read: \(error.reason)")]))
        }
        let root: JSONNode
        do { root = try JSON5Reader.parse(text) } catch {
            return .failure(ConfigErrors([ConfigIssue(file: file, location: error.location, path: "", message: error.message)]))
        }
        let diagnostics = Diagnostics(file: file)
        guard let value = parse(root, diagnostics), diagnostics.issues.isEmpty else { return .failure(ConfigErrors(diagnostics.issues)) }
        return .success(value)
    }
}

/// Sensor profiles (`Profiles/`, `/etc/vigil/profiles`).
public typealias ProfileLibrary = DefinitionFiles
/// Gateway boards (`Boards/`, `/etc/vigil/boards`).
public typealias BoardLibrary = DefinitionFiles

extension DefinitionFiles {
    /// Loads and validates one profile file.
    public func load(file: String) -> Result<Profile, ConfigErrors> {
        let name = String(baseName(of: file).dropLast(file.hasSuffix(".json5") ? 6 : 0))
        return read(file: file) { Profile.parse($0, name: name, file: file, diagnostics: $1) }
    }

    /// Loads and validates one board file.
    public func loadBoard(file: String) -> Result<Board, ConfigErrors> {
        read(file: file) { Board.parse($0, file: file, diagnostics: $1) }
    }
}

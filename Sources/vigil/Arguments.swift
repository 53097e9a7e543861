import VigilAgent

/// A bad command line: one line, then where to find the usage; exit 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    /// Set when the error is an option the command does not have (main adds the likely one from the usage).
    var unknownOption: String?
    init(_ message: String, unknownOption: String? = nil) { description = message; self.unknownOption = unknownOption }
}

/// The words after the command name, taken one option at a time.
struct Arguments {
    private var words: [String]

    init(_ words: [String]) { self.words = words }

    var isEmpty: Bool { words.isEmpty }

    /// Removes `--name VALUE` (or `--name=VALUE`) and returns VALUE.
    mutating func option(_ name: String) throws(UsageError) -> String? {
        try options(name).last
    }

    /// Every `--name VALUE` given, in order.
    mutating func options(_ name: String) throws(UsageError) -> [String] {
        var values: [String] = []
        var i = 0
        while i < words.count {
            if words[i] == name {
                guard i + 1 < words.count else { throw UsageError("\(name) needs a value") }
                values.append(words[i + 1])
                words.removeSubrange(i...(i + 1))
            } else if words[i].hasPrefix(name + "=") {
                values.append(String(words[i].dropFirst(name.count + 1)))
                words.remove(at: i)
            } else {
                i += 1
            }
        }
        return values
    }

    mutating func flag(_ name: String) -> Bool {
        guard let i = words.firstIndex(of: name) else { return false }
        words.remove(at: i)
        return true
    }

    /// The next word that is not an option (`-x` and `--x` are options; `-3` is a number).
    mutating func positional() -> String? {
        guard let i = words.firstIndex(where: { !$0.hasPrefix("-") || Double($0) != nil }) else { return nil }
        return words.remove(at: i)
    }

    /// Fails on anything not taken: an option the command does not have, or a word too many.
    func finish() throws(UsageError) {
        guard let extra = words.first else { return }
        guard extra.hasPrefix("-"), Double(extra) == nil else { throw UsageError("unexpected argument '\(extra)'") }
        let name = String(extra.prefix { $0 != "=" })
        throw UsageError("unknown option '\(name)'", unknownOption: name)
    }

    /// The case named by `text`, if given; an unknown name is an error with the likely one.
    static func choice<T: RawRepresentable & CaseIterable>(_ text: String?, _ name: String, as _: T.Type = T.self) throws(UsageError) -> T?
        where T.RawValue == String {
        guard let text else { return nil }
        return T(rawValue: try choice(text, name, in: T.allCases.map(\.rawValue)))
    }

    /// `text` when it is one of `allowed`; else an error naming them, with the likely one.
    static func choice(_ text: String, _ name: String, in allowed: [String]) throws(UsageError) -> String {
        guard !allowed.contains(text) else { return text }
        let hint = closestMatch(to: text, in: allowed).map { "; did you mean \($0)?" } ?? ""
        throw UsageError("\(name): '\(text)' is not one of \(allowed.joined(separator: ", "))\(hint)")
    }

    static func number<T: LosslessStringConvertible>(_ text: String?, _ name: String, as _: T.Type = T.self) throws(UsageError) -> T? {
        guard let text else { return nil }
        guard let v = T(text) else { throw UsageError("\(name): '\(text)' is not a number") }
        return v
    }
}

/// One `vigil` subcommand: parsed (and validated) first, then run.
protocol Command {
    static var name: String { get }
    static var summary: String { get }
    static var usage: String { get }
    init(_ arguments: inout Arguments) throws(UsageError)
    /// The exit code: 0 ok, 1 failed, 2 usage or config error.
    func run() -> Int32
}

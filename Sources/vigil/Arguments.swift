/// A bad command line: printed with the command's usage, exit 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
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

    mutating func positional() -> String? {
        guard let i = words.firstIndex(where: { !$0.hasPrefix("--") }) else { return nil }
        return words.remove(at: i)
    }

    /// Fails on anything not taken.
    func finish() throws(UsageError) {
        if let extra = words.first { throw UsageError("unexpected argument '\(extra)'") }
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

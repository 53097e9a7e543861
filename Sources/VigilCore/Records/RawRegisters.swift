/// What a device sent for one point, before decoding: its register words, a
/// coil or input bit, or nothing (a failed read, a GPIO line without a level).
/// Kept typed from the decoder through the journal; it becomes hex text only
/// where records become text (`hex`: RecordJSON, `vigil values`).
public struct RawRegisters: Sendable, Hashable {
    private enum Storage: Sendable, Hashable {
        case none
        case bit(Bool)
        /// Up to four words (every number type) packed high word first: no allocation per reading.
        case inline(count: UInt8, packed: UInt64)
        /// Longer runs (strings).
        case array([UInt16])
    }

    private let storage: Storage

    public static let none = RawRegisters(storage: .none)
    public static func bit(_ on: Bool) -> RawRegisters { RawRegisters(storage: .bit(on)) }

    private init(storage: Storage) { self.storage = storage }

    public init(words: some Collection<UInt16>) {
        if words.isEmpty {
            storage = .none
        } else if words.count <= 4 {
            storage = .inline(count: UInt8(words.count), packed: words.reduce(0) { $0 << 16 | UInt64($1) })
        } else {
            storage = .array(Array(words))
        }
    }

    /// The register words; empty for a bit or nothing.
    public var words: [UInt16] {
        switch storage {
        case .none, .bit: return []
        case .inline:
            var words: [UInt16] = []
            forEachWord { words.append($0) }
            return words
        case .array(let words): return words
        }
    }

    public var wordCount: Int {
        switch storage {
        case .none, .bit: 0
        case .inline(let count, _): Int(count)
        case .array(let words): words.count
        }
    }

    /// Each word in order, without making an array (the journal and JSON paths run this for every reading).
    @inline(__always)
    public func forEachWord(_ body: (UInt16) -> Void) {
        switch storage {
        case .none, .bit: break
        case .inline(let count, let packed):
            for i in 0..<Int(count) { body(UInt16(truncatingIfNeeded: packed >> (16 * UInt64(Int(count) - 1 - i)))) }
        case .array(let words): words.forEach(body)
        }
    }

    /// The bit, for a coil or a discrete input.
    public var bit: Bool? { if case .bit(let on) = storage { on } else { nil } }

    /// "41bb 0000" for words (lowercase, a space between words, as `vigil diag`
    /// and the uplink show them), "0" or "1" for a bit, "" for nothing.
    public var hex: String {
        switch storage {
        case .none: ""
        case .bit(let on): on ? "1" : "0"
        case .inline, .array: RegisterCodec.hex(words)
        }
    }

    /// The reverse of `hex`; nil for anything else.
    public init?(hex: String) {
        switch hex {
        case "": self = .none
        case "0", "1": self = .bit(hex == "1")
        default:
            var words: [UInt16] = []
            for word in hex.split(separator: " ", omittingEmptySubsequences: false) {
                guard word.count == 4, let w = UInt16(word, radix: 16) else { return nil }
                words.append(w)
            }
            self.init(words: words)
        }
    }
}

/// One GPIO line as libgpiod names it: a chip and an offset on it, with the
/// electrical details a request needs. Configs usually give a board label
/// instead, which the board file resolves to this.
public struct GPIOLine: Sendable, Equatable, CustomStringConvertible {
    public var chip: String
    public var offset: Int
    public var activeLow: Bool
    public var bias: Board.Bias
    /// The board's label for it, when it came from one (for messages).
    public var label: String?

    public init(chip: String, offset: Int, activeLow: Bool = false, bias: Board.Bias = .none, label: String? = nil) {
        self.chip = chip; self.offset = offset; self.activeLow = activeLow; self.bias = bias; self.label = label
    }

    public var description: String { label.map { "\($0) (\(chip) line \(offset))" } ?? "\(chip) line \(offset)" }
}

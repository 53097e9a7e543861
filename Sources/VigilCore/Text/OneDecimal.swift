extension String {
    /// One decimal, without Foundation: `12.4`, `-0.5`.
    public init(format1 v: Double) {
        let tenths = Int((v * 10).rounded())
        self = (tenths < 0 ? "-" : "") + "\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }
}

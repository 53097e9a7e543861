#if canImport(Glibc)
import Glibc
#endif

/// What one read request returned.
public enum BlockResult: Sendable {
    case registers([UInt16])
    case bits([Bool])
    case failed(String)
}

/// A point's value as it goes out.
public enum PointValue: Sendable, Equatable {
    case int(Int64)
    case uint(UInt64)
    /// A float32 kept in its own precision, so 23.4 prints as 23.4.
    case float(Float)
    case double(Double)
    case bool(Bool)
    case string(String)
}

public struct DecodedPoint: Sendable, Equatable {
    public var value: PointValue?
    public var raw: RawRegisters
    public var label: String?
    public var error: String?
    public var isGood: Bool { error == nil }
}

/// Turns the results of a device's read blocks into one value per point:
/// picks each point's words out of its block, decodes, applies `decimals_from`,
/// `scale` and `offset`. A failed block fails only its own points.
public struct PointDecoder: Sendable {
    public let points: [PointSpec]
    public let blocks: [ReadBlock]
    /// What decoding needs of each point, without its strings: this runs for
    /// every point of every poll, and copying a whole PointSpec costs more.
    private let plans: [Plan]

    struct Plan {
        var block: Int
        var offset: Int
        var width: Int
        var type: ValueType
        var order: WordOrder
        var bit: Int
        var scale: Double
        var offset0: Double
        var decimalsSource: Int?
        var hasLabels: Bool
    }

    public init(points: [PointSpec], blocks: [ReadBlock]) {
        self.points = points
        self.blocks = blocks
        var plans = points.map { p in
            Plan(block: 0, offset: 0, width: p.width, type: p.type, order: p.order, bit: p.bit ?? 0, scale: p.scale,
                 offset0: p.offset, decimalsSource: p.decimalsFrom.flatMap { id in points.firstIndex { $0.id == id } },
                 hasLabels: !p.labels.isEmpty)
        }
        for (b, block) in blocks.enumerated() {
            for i in block.pointIndexes {
                plans[i].block = b
                plans[i].offset = points[i].address - block.start
            }
        }
        self.plans = plans
    }

    public func decode(_ results: [BlockResult]) -> [DecodedPoint] {
        let raws = plans.indices.map { rawValue(of: $0, results) }
        return plans.indices.map { i in
            let plan = plans[i]
            switch raws[i] {
            case .failure(let failure):
                return DecodedPoint(value: nil, raw: .none, label: nil, error: failure.message)
            case .success(let (raw, sent)):
                var decimals = 0
                if let source = plan.decimalsSource {
                    switch raws[source] {
                    case .failure(let failure):
                        return DecodedPoint(value: nil, raw: sent, label: nil, error: "decimals_from \(points[source].id): \(failure.message)")
                    case .success(let (sourceRaw, _)):
                        guard let d = sourceRaw.asInteger.map(Int.init), (0...9).contains(d) else {
                            return DecodedPoint(value: nil, raw: sent, label: nil, error: "decimals_from \(points[source].id): \(sourceRaw) is not a decimal count 0…9")
                        }
                        decimals = d
                    }
                }
                let label = plan.hasLabels ? raw.asInteger.flatMap { points[i].labels[$0] } : nil
                return finish(plan, raw: raw, sent: sent, label: label, decimals: decimals)
            }
        }
    }

    private func rawValue(of i: Int, _ results: [BlockResult]) -> Result<(RawValue, RawRegisters), PointError> {
        let plan = plans[i]
        switch results[plan.block] {
        case .failed(let message):
            return .failure(PointError(message))
        case .bits(let bits):
            guard plan.offset < bits.count else { return .failure(PointError("short response")) }
            return .success((.unsigned(bits[plan.offset] ? 1 : 0), .bit(bits[plan.offset])))
        case .registers(let words):
            guard plan.offset + plan.width <= words.count else { return .failure(PointError("short response")) }
            let slice = words[plan.offset..<plan.offset + plan.width]
            let sent = RawRegisters(words: slice)
            if plan.type == .bool {
                return .success((.unsigned(UInt64(slice.first! >> UInt16(plan.bit)) & 1), sent))
            }
            return .success((RegisterCodec.decode(slice, type: plan.type, order: plan.order), sent))
        }
    }

    private func finish(_ plan: Plan, raw: RawValue, sent: RawRegisters, label: String?, decimals: Int) -> DecodedPoint {
        if plan.type == .bool { return DecodedPoint(value: .bool(raw.asInteger == 1), raw: sent, label: label, error: nil) }
        if case .string(let s) = raw { return DecodedPoint(value: .string(s), raw: sent, label: nil, error: nil) }
        if raw.asDouble.isNaN || raw.asDouble.isInfinite {
            return DecodedPoint(value: nil, raw: sent, label: nil, error: "the device sent \(raw.asDouble.isNaN ? "NaN" : "infinity") (sensor fault?)")
        }
        let unscaled = plan.scale == 1 && plan.offset0 == 0 && decimals == 0
        if unscaled { return DecodedPoint(value: PointValue(raw, type: plan.type), raw: sent, label: label, error: nil) }
        let value = Self.scaled(raw.asDouble, scale: plan.scale, decimals: decimals) + plan.offset0
        return DecodedPoint(value: .double(Self.trimmingBinaryNoise(value)), raw: sent, label: label, error: nil)
    }

    /// Rounds to 12 significant digits, so 65.4 − 40 prints as 25.4 and not
    /// 25.400000000000006; no register value carries that many digits.
    static func trimmingBinaryNoise(_ v: Double) -> Double {
        guard v != 0, v.isFinite else { return v }
        let magnitude = Int((log10(abs(v))).rounded(.down))
        let digits = 11 - magnitude
        guard digits > 0, digits < 300 else { return v }
        let factor = pow(10.0, Double(digits))
        let rounded = (v * factor).rounded() / factor
        return rounded.isFinite ? rounded : v
    }

    /// raw × scale × 10^-decimals. Dividing by an exact power of ten (rather
    /// than multiplying by 0.1) keeps 1234 × 0.1 printing as 123.4.
    static func scaled(_ raw: Double, scale: Double, decimals: Int) -> Double {
        var v = raw
        let inverse = 1 / scale
        if scale < 1, inverse.rounded() == inverse || abs(inverse - inverse.rounded()) < 1e-9 * inverse {
            v /= inverse.rounded()
        } else {
            v *= scale
        }
        if decimals > 0 {
            var divisor = 1.0
            for _ in 0..<decimals { divisor *= 10 }
            v /= divisor
        }
        return v
    }
}

struct PointError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

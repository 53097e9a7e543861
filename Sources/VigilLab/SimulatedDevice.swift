import Glibc
import VigilCore
import VigilThreads
import VigilModbus

/// A fault a simulated device shows on request, to rehearse failure handling.
public enum SimulatedFault: Sendable, Equatable {
    case none
    /// Never answers (a dead or absent device).
    case silent
    /// Answers every request with this exception.
    case exception(ModbusExceptionCode)
    /// Answers after a delay.
    case slow(milliseconds: Int)

    /// "silent", "exception[:CODE]", "slow[:MS]".
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts.first {
        case "none": self = .none
        case "silent": self = .silent
        case "exception":
            let code = parts.count > 1 ? Int(parts[1]) : ModbusExceptionCode.serverDeviceBusy.rawValue
            guard let code, let exception = ModbusExceptionCode(rawValue: code) else { return nil }
            self = .exception(exception)
        case "slow":
            let ms = parts.count > 1 ? Int(parts[1]) : 1500
            guard let ms, ms > 0 else { return nil }
            self = .slow(milliseconds: ms)
        default: return nil
        }
    }
}

public struct SimulatedDevice: Sendable {
    public var unit: Int
    public var profile: Profile
    public var fault: SimulatedFault
    public init(unit: Int, profile: Profile, fault: SimulatedFault = .none) {
        self.unit = unit; self.profile = profile; self.fault = fault
    }
}

/// One simulated sensor's registers, moved along a plausible curve by kind:
/// gas drifting near zero then spiking past the first and second alarm levels,
/// a water level rising and falling, a smoke alarm going off and clearing.
final class SensorModel {
    let device: SimulatedDevice
    let map: ModbusRegisterMap

    init(_ device: SimulatedDevice) {
        self.device = device
        func size(_ table: RegisterTable) -> Int {
            device.profile.points.filter { $0.table == table }.map { $0.address + $0.width }.max() ?? 0
        }
        map = ModbusRegisterMap(coils: size(.coil), discrete: size(.discrete), holding: size(.holding), input: size(.input))
        writeStaticPoints() // the moving values: `update`
    }

    /// The primary measurement at `t` seconds, in the profile's unit.
    static func primaryValue(kind: Profile.Kind, oel: Double?, t: Double) -> Double {
        switch kind {
        case .combustibleGas:
            return gasShape(t) // %LEL: crosses 25 near t=15 s and 50 near t=19 s of every 40 s
        case .toxicGas:
            return gasShape(t) / 25 * (oel ?? 50) // reaches about 2.3 × OEL
        case .waterLevel:
            return 1.2 + 0.9 * sin(2 * .pi * t / 60) // metres, one minute a tide
        case .smoke:
            return t.truncatingRemainder(dividingBy: 30) >= 10 && t.truncatingRemainder(dividingBy: 30) < 18 ? 1 : 0
        }
    }

    static func gasShape(_ t: Double) -> Double {
        let phase = t.truncatingRemainder(dividingBy: 40)
        let baseline = 2 + 1.5 * sin(t / 3)
        switch phase {
        case ..<12: return baseline
        case ..<20: return baseline + (58 - baseline) * (phase - 12) / 8
        case ..<28: return 58 - (58 - 3) * (phase - 20) / 8
        default: return baseline
        }
    }

    func update(elapsedSeconds t: Double) {
        guard let primary = device.profile.primaryPoint else { return }
        let value = Self.primaryValue(kind: device.profile.kind, oel: device.profile.oel, t: t)
        write(primary, value: value)
        for point in device.profile.points {
            switch point.role {
            // The detector's own alarm bits follow its measurement, as a real one's do.
            case .alarm1? where point.id != primary.id: write(point, value: value >= (primary.alarms?.high ?? .infinity) ? 1 : 0)
            case .alarm2? where point.id != primary.id: write(point, value: value >= (primary.alarms?.highHigh ?? .infinity) ? 1 : 0)
            case .heartbeat?: write(point, value: (t / 5).rounded(.down), engineering: false) // advances every 5 s
            default: break
            }
        }
    }

    /// Points other than the primary hold fixed values: the first label of an
    /// enum (a unit code), 2 for a decimal-count register, the model name in strings.
    private func writeStaticPoints() {
        let points = device.profile.points
        for point in points where point.id != device.profile.primary {
            if points.contains(where: { $0.decimalsFrom == point.id }) {
                write(point, value: 2)
            } else if point.type == .string {
                map.setRegisters(point.table, at: point.address,
                                 RegisterCodec.encode(.string(device.profile.model), type: .string, order: point.order, length: point.length))
            } else if point.role == .mode, let normal = point.labels.first(where: { $0.value == "normal" })?.key {
                write(point, value: Double(normal), engineering: false)
            } else if let code = unitCode(point) ?? point.labels.keys.sorted().first {
                write(point, value: Double(code), engineering: false)
            }
        }
    }

    /// For a unit-code register: the code whose label is the primary point's unit
    /// (a level in metres is metres of water column).
    private func unitCode(_ point: PointSpec) -> Int64? {
        guard let unit = device.profile.primaryPoint?.unit else { return nil }
        let wanted = device.profile.kind == .waterLevel && unit == "m" ? "mH2O" : unit
        return point.labels.first { $0.value == wanted }?.key
    }

    private func decimals(of point: PointSpec) -> Int {
        guard let source = point.decimalsFrom else { return 0 }
        return device.profile.points.contains { $0.id == source } ? 2 : 0
    }

    /// Stores an engineering value as the device would: undoing offset, scale and decimals.
    func write(_ point: PointSpec, value: Double, engineering: Bool = true) {
        if point.table.isBitTable {
            map.setBit(point.table, at: point.address, value != 0)
            return
        }
        if point.type == .bool {
            var word = map.registers(point.table, at: point.address, count: 1)[0]
            let mask = UInt16(1) << UInt16(point.bit ?? 0)
            word = value != 0 ? word | mask : word & ~mask
            map.setRegisters(point.table, at: point.address, [word])
            return
        }
        var raw = value
        if engineering {
            raw = (value - point.offset) / point.scale
            for _ in 0..<decimals(of: point) { raw *= 10 }
        }
        let rawValue: RawValue = switch point.type {
        case .float32, .float64: .float(raw)
        case .int16, .int32, .int64: .signed(Int64(raw.rounded()))
        default: .unsigned(UInt64(max(0, raw.rounded())))
        }
        map.setRegisters(point.table, at: point.address, RegisterCodec.encode(rawValue, type: point.type, order: point.order, length: point.length))
    }
}

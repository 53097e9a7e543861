import CModbus
import XCTest
@testable import VigilCore

/// Our float32 decoding agrees with libmodbus's explicit-order getters.
///
/// Only the getters: libmodbus 3.1.6 (Debian 12) has setters that disagree with
/// its own getters (modbus_set_float_abcd(1.5) gives c03f 0000, which
/// modbus_get_float_abcd reads as -2.98), so the simulator encodes with
/// RegisterCodec, which this test and the pymodbus vectors check.
final class LibmodbusFloatTests: XCTestCase {
    func testFloat32InEveryOrderMatchesLibmodbusGetters() {
        let getters: [(WordOrder, (UnsafePointer<UInt16>) -> Float)] = [
            (.abcd, { modbus_get_float_abcd($0) }),
            (.cdab, { modbus_get_float_cdab($0) }),
            (.badc, { modbus_get_float_badc($0) }),
            (.dcba, { modbus_get_float_dcba($0) }),
        ]
        for value: Float in [0, 1.5, -273.25, 23.4, 1e-5, .greatestFiniteMagnitude] {
            for (order, get) in getters {
                let words = RegisterCodec.encode(.float(Double(value)), type: .float32, order: order)
                XCTAssertEqual(words.withUnsafeBufferPointer { get($0.baseAddress!) }, value, "\(order) \(value)")
                XCTAssertEqual(RegisterCodec.decode(words, type: .float32, order: order), .float(Double(value)), "\(order) \(value)")
            }
        }
        // The same bytes under the four names: ABCD as 3fc0 0000, CDAB as 0000 3fc0, ...
        XCTAssertEqual(RegisterCodec.encode(.float(1.5), type: .float32, order: .abcd), [0x3FC0, 0x0000])
        XCTAssertEqual(RegisterCodec.encode(.float(1.5), type: .float32, order: .cdab), [0x0000, 0x3FC0])
        XCTAssertEqual(RegisterCodec.encode(.float(1.5), type: .float32, order: .badc), [0xC03F, 0x0000])
        XCTAssertEqual(RegisterCodec.encode(.float(1.5), type: .float32, order: .dcba), [0x0000, 0xC03F])
    }
}

import Foundation
import XCTest
import VigilCore
@testable import VigilModbus
import VigilTestSupport

/// RTU frames in a TCP stream (a serial device server in transparent mode), against
/// pymodbus serving its RTU framer over TCP (SimulatorTests: our server against pymodbus's client).
final class RTUOverTCPTests: XCTestCase {
    func testReadsWritesAndExceptionsThroughADeviceServer() throws {
        let port = freeTCPPort()
        let server = try startPymodbus(rtuOverTCPPort: port, unit: 7, registers: ModbusClientTests.registers)
        defer { server.stop() }
        let client = try ModbusClient(transport: .rtuOverTCP(host: "127.0.0.1", port: port, gapMs: 4), timeoutMs: 1000)
        try client.connect()
        XCTAssertEqual(try client.readRegisters(unit: 7, table: .holding, address: 0, count: 3), [1, 2, 65535])
        XCTAssertEqual(try client.readRegisters(unit: 7, table: .input, address: 5, count: 2), [0x8000, 7])
        XCTAssertEqual(try client.readBits(unit: 7, table: .coil, address: 0, count: 3), [true, false, true])
        try client.writeRegisters(unit: 7, address: 1, [42, 43])
        XCTAssertEqual(try client.readRegisters(unit: 7, table: .holding, address: 0, count: 3), [1, 42, 43])
        XCTAssertThrowsError(try client.readRegisters(unit: 7, table: .input, address: 300, count: 1)) { error in
            XCTAssertEqual(error as? ModbusError, .exception(.illegalDataAddress))
        }
    }

    /// socat as the device server, a pymodbus RTU device on the serial line behind it.
    func testASerialLineBehindADeviceServer() throws {
        let line = try SerialLinePair()
        let device = try startPymodbus(serial: line.deviceSide, unit: 7, registers: ModbusClientTests.registers)
        defer { device.stop() }
        let server = try SerialDeviceServer(line: line)
        let client = try ModbusClient(transport: .rtuOverTCP(host: "127.0.0.1", port: server.port, gapMs: 4), timeoutMs: 1000)
        try client.connect()
        XCTAssertEqual(try client.readRegisters(unit: 7, table: .holding, address: 0, count: 3), [1, 2, 65535])
        XCTAssertEqual(try client.readBits(unit: 7, table: .coil, address: 0, count: 3), [true, false, true])
        // pymodbus answers a unit it does not play with exception 4; the next request is answered.
        XCTAssertThrowsError(try client.readRegisters(unit: 9, table: .holding, address: 0, count: 1)) { error in
            XCTAssertEqual(error as? ModbusError, .exception(.serverDeviceFailure))
        }
        XCTAssertEqual(try client.readRegisters(unit: 7, table: .input, address: 5, count: 2), [0x8000, 7])
    }

    func testAServerThatIsNotThereAndOneThatGoesAway() throws {
        let port = freeTCPPort()
        let client = try ModbusClient(transport: .rtuOverTCP(host: "127.0.0.1", port: port, gapMs: 4), timeoutMs: 500)
        XCTAssertThrowsError(try client.connect()) { error in
            guard case .openFailed(let why)? = error as? ModbusError else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("127.0.0.1:\(port): Connection refused"), why)
        }
        let server = try startPymodbus(rtuOverTCPPort: port, unit: 1, registers: ModbusClientTests.registers)
        try client.connect()
        XCTAssertEqual(try client.readRegisters(unit: 1, table: .holding, address: 0, count: 1), [1])
        server.stop()
        XCTAssertThrowsError(try client.readRegisters(unit: 1, table: .holding, address: 0, count: 1)) { error in
            XCTAssertTrue((error as! ModbusError).needsReconnect || error as? ModbusError == .timeout, "\(error)")
        }
        // The device server is back (a DTU after a 4G reconnect): close and connect again.
        let again = try startPymodbus(rtuOverTCPPort: port, unit: 1, registers: ModbusClientTests.registers)
        defer { again.stop() }
        client.close()
        try client.connect()
        XCTAssertEqual(try client.readRegisters(unit: 1, table: .holding, address: 0, count: 1), [1])
    }
}

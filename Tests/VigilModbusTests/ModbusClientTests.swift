import XCTest
import VigilCore
@testable import VigilModbus
import VigilTestSupport

/// The libmodbus wrapper against pymodbus as the server.
final class ModbusClientTests: XCTestCase {
    nonisolated(unsafe) static let registers: [String: [String: [Any]]] = [
        "holding": ["0": [1, 2, 65535], "20": [0x41C8, 0x0000]],
        "input": ["5": [0x8000, 7]],
        "coil": ["0": [true, false, true]],
        "discrete": ["3": [false, true]],
    ]

    func testReadsEveryTableOverTCP() throws {
        let port = freeTCPPort()
        let server = try startPymodbus(tcpPort: port, registers: Self.registers)
        defer { server.stop() }
        let client = try ModbusClient(transport: .tcp(host: "127.0.0.1", port: port), timeoutMs: 1000)
        try client.connect()
        XCTAssertEqual(try client.readRegisters(unit: 1, table: .holding, address: 0, count: 3), [1, 2, 65535])
        XCTAssertEqual(try client.readRegisters(unit: 1, table: .holding, address: 20, count: 2), [0x41C8, 0])
        XCTAssertEqual(try client.readRegisters(unit: 1, table: .input, address: 5, count: 2), [0x8000, 7])
        XCTAssertEqual(try client.readBits(unit: 1, table: .coil, address: 0, count: 3), [true, false, true])
        XCTAssertEqual(try client.readBits(unit: 1, table: .discrete, address: 3, count: 2), [false, true])
    }

    func testExceptionsAreNamed() throws {
        let port = freeTCPPort()
        let server = try startPymodbus(tcpPort: port, registers: Self.registers)
        defer { server.stop() }
        let client = try ModbusClient(transport: .tcp(host: "127.0.0.1", port: port), timeoutMs: 1000)
        try client.connect()
        XCTAssertThrowsError(try client.readRegisters(unit: 1, table: .holding, address: 100, count: 1)) { error in
            XCTAssertEqual(error as? ModbusError, .exception(.illegalDataAddress))
            XCTAssertEqual((error as! ModbusError).description, "exception 2 (illegal data address)")
            XCTAssertTrue((error as! ModbusError).deviceAnswered)
        }
    }

    func testConnectionRefusedIsAnOpenFailure() throws {
        let client = try ModbusClient(transport: .tcp(host: "127.0.0.1", port: freeTCPPort()), timeoutMs: 200)
        XCTAssertThrowsError(try client.connect()) { error in
            guard case .openFailed(let why)? = error as? ModbusError else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("Connection refused"), why)
        }
    }

    func testASerialPortThatIsNotThereSaysWhatToLookAt() throws {
        let client = try ModbusClient(transport: .rtu(SerialSettings(device: "/dev/ttyUSB-not-here", baud: 9600)), timeoutMs: 200)
        XCTAssertThrowsError(try client.connect()) { error in
            XCTAssertEqual("\(error)", "cannot open: /dev/ttyUSB-not-here: No such file or directory; "
                           + "is the adapter plugged in? `ls -l /dev/serial/by-id/` names what is attached")
        }
    }

    func testServerGoneIsConnectionLost() throws {
        let port = freeTCPPort()
        let server = try startPymodbus(tcpPort: port, registers: Self.registers)
        let client = try ModbusClient(transport: .tcp(host: "127.0.0.1", port: port), timeoutMs: 500)
        try client.connect()
        _ = try client.readRegisters(unit: 1, table: .holding, address: 0, count: 1)
        server.stop()
        XCTAssertThrowsError(try client.readRegisters(unit: 1, table: .holding, address: 0, count: 1)) { error in
            XCTAssertTrue((error as! ModbusError).needsReconnect || error as? ModbusError == .timeout, "\(error)")
        }
    }

    func testReadsOverRTUOnASerialLinePair() throws {
        let line = try SerialLinePair()
        let server = try startPymodbus(serial: line.deviceSide, unit: 7, registers: Self.registers)
        defer { server.stop() }
        let client = try ModbusClient(transport: .rtu(SerialSettings(device: line.agentSide, baud: 9600)), timeoutMs: 1000)
        try client.connect()
        XCTAssertEqual(try client.readRegisters(unit: 7, table: .holding, address: 0, count: 3), [1, 2, 65535])
        XCTAssertEqual(try client.readBits(unit: 7, table: .coil, address: 0, count: 3), [true, false, true])
        XCTAssertThrowsError(try client.readRegisters(unit: 7, table: .input, address: 300, count: 1)) { error in
            XCTAssertEqual(error as? ModbusError, .exception(.illegalDataAddress))
        }
    }

    func testSilentLineTimesOut() throws {
        let line = try SerialLinePair() // nobody on the device side
        let client = try ModbusClient(transport: .rtu(SerialSettings(device: line.agentSide, baud: 9600)), timeoutMs: 300)
        try client.connect()
        XCTAssertThrowsError(try client.readRegisters(unit: 1, table: .holding, address: 0, count: 1)) { error in
            XCTAssertEqual(error as? ModbusError, .timeout)
            XCTAssertFalse((error as! ModbusError).deviceAnswered)
        }
    }

    func testRS485ModeOnAPtyIsAClearOpenError() throws {
        let line = try SerialLinePair()
        let client = try ModbusClient(transport: .rtu(SerialSettings(device: line.agentSide, baud: 9600, rs485: true)), timeoutMs: 300)
        XCTAssertThrowsError(try client.connect()) { error in
            guard case .openFailed(let why)? = error as? ModbusError else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("kernel RS-485 mode not supported"), why)
        }
    }
}

import XCTest
@testable import VigilCore
import VigilTestSupport

final class BoardTests: XCTestCase {
    let boards = BoardLibrary(directories: [Repo.path("Boards")])
    var loader: ConfigLoader { ConfigLoader(profiles: ProfileLibrary(directories: [Repo.path("Profiles")]), boards: boards, environment: .system(machineIDFile: "/nonexistent")) }

    func testEveryShippedBoardValidatesAndNamesItsSource() {
        let names = boards.names()
        for required in ["raspberry-pi-waveshare-rs485-hat", "siemens-iot2050", "moxa-uc-8100a", "revolution-pi-connect",
                         "beaglebone-black-rs485-cape", "generic-x86-usb-rs485"] {
            XCTAssertTrue(names.contains(required), required)
        }
        for name in names {
            guard case .success(let board) = boards.loadBoard(file: boards.resolve(name, relativeTo: ".")!) else { XCTFail(name); continue }
            XCTAssertFalse(board.source.isEmpty, name)
            XCTAssertFalse(board.serialPorts.isEmpty, name)
            XCTAssertNotNil(board.watchdogMaxTimeoutSeconds, name)
        }
    }

    /// With DevicePolicy=closed, a port the unit does not allow is "Permission denied" at run time, whatever the file modes.
    func testTheUnitAllowsEveryDeviceAShippedBoardNames() throws {
        // ServiceAccessTests checks that ServiceAccess.unitDeviceAllow is the unit's DeviceAllow=.
        let allowed = ServiceAccess.unitDeviceAllow
        func isAllowed(_ device: String) -> Bool {
            // The driver by the node's name, as this machine has none of them: ttyAMA0 is ttyAMA,
            // watchdog0 watchdog; /dev/watchdog itself is a misc device.
            let node = String(device.split(separator: "/").last ?? "")
            let driver = node == "watchdog" ? "misc" : String(node.reversed().drop(while: \.isNumber).reversed())
            return ServiceAccess.deviceAllowed(driver: driver) { $0 == device }
        }
        var checked = 0
        for name in boards.names() {
            guard case .success(let board) = boards.loadBoard(file: boards.resolve(name, relativeTo: ".")!) else { XCTFail(name); continue }
            for device in board.serialPorts.map(\.device) + [board.watchdogDevice].compactMap({ $0 }) {
                XCTAssertTrue(isAllowed(device), "board \(name): \(device) is not in the unit's DeviceAllow= (\(allowed))")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 10)
    }

    func config(board: String, bus: String, watchdog: String = "") -> Result<VigilConfig, ConfigErrors> {
        loader.parse("""
            { gateway: { id: 'g', board: '\(board)' }, buses: [\(bus)],
              devices: [{ id: 'd', bus: 'b', unit: 1, points: [{ id: 'p', register: 40001 }] }] \(watchdog) }
            """, file: "vigil.json5")
    }

    func testAPortLabelResolvesToTheBoardsDeviceAndRS485Mode() throws {
        guard case .success(let c) = config(board: "revolution-pi-connect", bus: "{ id: 'b', kind: 'rtu', port: 'RS485', baud: 19200 }") else { return XCTFail() }
        guard case .rtu(let serial) = c.buses[0].transport else { return XCTFail() }
        XCTAssertEqual(serial.device, "/dev/ttyRS485")
        XCTAssertTrue(serial.rs485, "the board says the kernel drives the transceiver")
        guard case .success(let pi) = config(board: "raspberry-pi-waveshare-rs485-hat", bus: "{ id: 'b', kind: 'rtu', port: 'RS485-1' }") else { return XCTFail() }
        guard case .rtu(let piSerial) = pi.buses[0].transport else { return XCTFail() }
        XCTAssertEqual(piSerial.device, "/dev/ttyAMA0")
        XCTAssertFalse(piSerial.rs485)
        // A TCP bus keeps its numeric port.
        guard case .success(let tcp) = config(board: "generic-x86-usb-rs485", bus: "{ id: 'b', kind: 'tcp', host: 'h', port: 1502 }") else { return XCTFail() }
        XCTAssertEqual(tcp.buses[0].transport, .tcp(host: "h", port: 1502))
    }

    func testLabelsThatDoNotExistOnTheBoardAreErrors() {
        guard case .failure(let e) = config(board: "raspberry-pi-waveshare-rs485-hat", bus: "{ id: 'b', kind: 'rtu', port: 'RS485-2' }") else { return XCTFail() }
        XCTAssertTrue(e.description.contains("buses[0].port: board \"Raspberry Pi 4/5 + Waveshare RS485 CAN HAT\" has no serial port \"RS485-2\"; did you mean \"RS485-1\"?"), e.description)
        guard case .failure(let noBoard) = loader.parse("{ gateway: { id: 'g' }, buses: [{ id: 'b', kind: 'rtu', port: 'X30' }], devices: [] }", file: "v.json5") else { return XCTFail() }
        XCTAssertTrue(noBoard.description.contains("buses[0].port: a port label needs gateway.board"), noBoard.description)
        guard case .failure(let unknown) = config(board: "raspbery-pi-waveshare-rs485-hat", bus: "{ id: 'b', kind: 'tcp', host: 'h' }") else { return XCTFail() }
        XCTAssertTrue(unknown.description.contains("gateway.board: unknown board \"raspbery-pi-waveshare-rs485-hat\"; did you mean \"raspberry-pi-waveshare-rs485-hat\"?"), unknown.description)
    }

    func testTheWatchdogTimeoutMustFitTheBoard() {
        guard case .failure(let e) = config(board: "raspberry-pi-waveshare-rs485-hat", bus: "{ id: 'b', kind: 'rtu', port: 'RS485-1' }",
                                            watchdog: ", watchdog: { device: '/dev/watchdog', timeout_s: 30 }") else { return XCTFail() }
        XCTAssertTrue(e.description.contains("watchdog.timeout_s: 30 s is more than board \"Raspberry Pi 4/5 + Waveshare RS485 CAN HAT\"'s watchdog allows (15 s)"), e.description)
    }
}

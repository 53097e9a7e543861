import XCTest
@testable import VigilCore
import VigilTestSupport

final class ProfileTests: XCTestCase {
    let library = ProfileLibrary(directories: [Repo.path("Profiles")])

    func testEveryShippedProfileValidates() throws {
        let names = library.names()
        XCTAssertGreaterThanOrEqual(names.count, 8)
        for name in names {
            guard case .success(let profile) = library.load(file: library.resolve(name, relativeTo: ".")!) else {
                XCTFail("\(name) does not validate"); continue
            }
            XCTAssertNotNil(profile.primaryPoint, name)
            XCTAssertFalse(profile.source.isEmpty, name)
        }
    }

    func testTheRequiredModelsAreShipped() {
        for name in ["generic-combustible-gas", "honeywell-xnx", "honeywell-sensepoint-xcl", "draeger-polytron-8000",
                     "msa-ultima-x", "qdy30a-level", "system-sensor-faast", "generic-smoke"] {
            XCTAssertNotNil(library.resolve(name, relativeTo: "."), name)
        }
    }

    func testXNXRegisterMap() throws {
        guard case .success(let xnx) = library.load(file: library.resolve("honeywell-xnx", relativeTo: ".")!) else { return XCTFail() }
        let byID = Dictionary(uniqueKeysWithValues: xnx.points.map { ($0.id, $0) })
        XCTAssertEqual(byID["device_id"]?.address, 0)
        XCTAssertEqual(byID["gas"]?.address, 2)
        XCTAssertEqual(byID["gas"]?.type, .float32)
        XCTAssertEqual(byID["fault_warning"]?.address, 4)
        XCTAssertEqual([byID["alarm1"]?.bit, byID["alarm2"]?.bit, byID["warning"]?.bit, byID["fault"]?.bit], [0, 1, 4, 6])
        XCTAssertEqual(byID["unit_code"]?.address, 10)
        XCTAssertEqual(byID["gas"]?.alarms?.high, 25)
        XCTAssertEqual(byID["gas"]?.alarms?.highHigh, 50)
    }

    func testQDY30ALevelTakesItsDecimalsFromRegister3() throws {
        guard case .success(let qdy) = library.load(file: library.resolve("qdy30a-level", relativeTo: ".")!) else { return XCTFail() }
        let level = qdy.points.first { $0.id == "level" }!
        XCTAssertEqual(level.address, 4)
        XCTAssertEqual(level.type, .int16)
        XCTAssertEqual(qdy.points.first { $0.id == level.decimalsFrom }?.address, 3)
        XCTAssertEqual(qdy.points.first { $0.id == "unit_code" }?.address, 2)
    }

    func testDraegerPolytronIsFloatABCDAt40507() throws {
        guard case .success(let p) = library.load(file: library.resolve("draeger-polytron-8000", relativeTo: ".")!) else { return XCTFail() }
        XCTAssertEqual(p.primaryPoint?.address, 506)
        XCTAssertEqual(p.primaryPoint?.order, .abcd)
    }

    func testProfilesSayVerifyOnDeviceWhereWordOrderIsOpen() throws {
        for name in ["generic-combustible-gas", "honeywell-xnx", "honeywell-sensepoint-xcl", "msa-ultima-x"] {
            let text = try String(contentsOfFile: library.resolve(name, relativeTo: ".")!, encoding: .utf8)
            XCTAssertTrue(text.contains("verify on device"), name)
        }
    }
}

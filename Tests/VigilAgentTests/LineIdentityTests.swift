import XCTest
import VigilAgent
import VigilCore
import VigilTestSupport

final class LineIdentityTests: XCTestCase {
    func testASymlinkIsTheLineItNames() throws {
        let dir = temporaryDirectory()
        FileManager.default.createFile(atPath: "\(dir)/ttyUSB0", contents: nil)
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/by-id", withDestinationPath: "\(dir)/ttyUSB0")
        let settings = SerialSettings(device: "\(dir)/by-id", baud: 9600, parity: .none, dataBits: 8, stopBits: 1)
        XCTAssertTrue(LineIdentity(.rtu(settings)).isSameLine(as: LineIdentity(endpoint: "\(dir)/ttyUSB0")))
        XCTAssertFalse(LineIdentity(.rtu(settings)).isSameLine(as: LineIdentity(endpoint: "\(dir)/ttyUSB1")))
    }

    func testLocalhostIsTheLoopbackAddressOnTheSamePortOnly() {
        let named = LineIdentity(.tcp(host: "localhost", port: 1502))
        XCTAssertTrue(named.isSameLine(as: LineIdentity(endpoint: "127.0.0.1:1502")))
        XCTAssertFalse(named.isSameLine(as: LineIdentity(endpoint: "127.0.0.1:1503")))
        XCTAssertFalse(named.isSameLine(as: LineIdentity(endpoint: "10.0.0.9:1502")))
        XCTAssertFalse(named.isSameLine(as: LineIdentity(endpoint: "/dev/ttyUSB0")))
    }
}

import XCTest
@testable import VigilLab

final class RTURequestFramerTests: XCTestCase {
    /// Read 10 holding registers from unit 1: the textbook frame, CRC C5 CD.
    let readTen: [UInt8] = [0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD]

    func withCRC(_ body: [UInt8]) -> [UInt8] {
        let crc = RTURequestFramer.crc16(body)
        return body + [UInt8(crc & 0xFF), UInt8(crc >> 8)]
    }

    func testTheCRCIsModbus() {
        XCTAssertEqual(withCRC(Array(readTen.prefix(6))), readTen)
    }

    func testRequestsArriveInPiecesAndBackToBack() {
        let write = withCRC([0x02, 0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01, 0x02]) // write multiple: byte count 4
        var framer = RTURequestFramer()
        let stream = readTen + write + readTen
        framer.append(stream[0..<3])
        XCTAssertNil(framer.next(), "not whole yet")
        framer.append(stream[3..<12])
        XCTAssertEqual(framer.next(), readTen)
        XCTAssertNil(framer.next(), "the write's byte count says more is coming")
        framer.append(stream[12...])
        XCTAssertEqual(framer.next(), write)
        XCTAssertEqual(framer.next(), readTen)
        XCTAssertNil(framer.next())
        XCTAssertEqual(framer.discardedBytes, 0)
    }

    func testNoiseAndADamagedFrameAreSkippedAndCounted() {
        var damaged = readTen
        damaged[4] ^= 0xFF
        var framer = RTURequestFramer()
        framer.append([0x00, 0xFF] + damaged + readTen)
        XCTAssertEqual(framer.next(), readTen, "the good frame after the noise is found")
        XCTAssertEqual(framer.discardedBytes, 2 + damaged.count)
    }

    func testSilenceEndsATornFrame() {
        var framer = RTURequestFramer()
        framer.append(readTen.prefix(5))
        framer.silence()
        framer.append(readTen)
        XCTAssertEqual(framer.next(), readTen)
        XCTAssertEqual(framer.discardedBytes, 5)
    }
}

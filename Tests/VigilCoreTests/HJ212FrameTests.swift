import XCTest
@testable import VigilCore

/// The packet layer against the examples printed in HJ 212-2017 and quoted,
/// with the same CRCs, by public parsers of the standard.
final class HJ212FrameTests: XCTestCase {
    /// HJ 212-2017 Appendix A: the CRC example.
    let standardExample = "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&"
    /// Hourly data (CN=2061) of an air station, as published with its CRC C181.
    let hourlyData = "QN=20190925181031464;ST=22;CN=2061;PW=BF470F88957588DE902D1A52;MN=Z13401000010301;Flag=5;CP=&&DataTime=20190924220000;"
        + "a34006-Avg=2.69700,a34006-Flag=N;a34007-Avg=7.96600,a34007-Flag=N;a34048-Avg=3.30600,a34048-Flag=N;"
        + "a34047-Avg=7.35700,a34047-Flag=N;a34049-Avg=10.66300,a34049-Flag=N&&"

    func testTheCRCIsTheStandards() {
        XCTAssertEqual(HJ212Frame.crc16(Array(standardExample.utf8)), 0x1C80)
        XCTAssertEqual(HJ212Frame.crc16(Array(hourlyData.utf8)), 0xC181)
    }

    func testAPacketIsTheStandardsExampleByteForByte() {
        let packet = HJ212Frame.encode(Array(standardExample.utf8))
        XCTAssertEqual(String(decoding: packet, as: UTF8.self), "##0101" + standardExample + "1C80\r\n")
        XCTAssertEqual(String(decoding: HJ212Frame.encode(Array(hourlyData.utf8)).prefix(6), as: UTF8.self), "##0285")
    }

    func testTheReaderFindsPacketsAcrossReadsAndSkipsNoiseAndDamage() {
        var reader = HJ212FrameReader()
        let good = HJ212Frame.encode(Array(standardExample.utf8))
        var bad = HJ212Frame.encode(Array(hourlyData.utf8))
        bad[40] ^= 0x01 // one bit flipped in the data: the CRC no longer matches
        let stream = Array("garbage\r\n".utf8) + bad + good
        reader.append(stream[0..<50])
        XCTAssertNil(reader.next(), "half a packet")
        reader.append(stream[50...])
        XCTAssertEqual(reader.next().map { String(decoding: $0, as: UTF8.self) }, standardExample)
        XCTAssertNil(reader.next())
        XCTAssertEqual(reader.damaged, 1, "the damaged packet is counted")
    }

    func testFieldsAndCP() throws {
        let fields = try HJ212Frame.Fields(parsing: Array("QN=20160801085857223;ST=91;CN=9011;PW=100000;MN=X1;Flag=4;CP=&&QnRtn=3&&".utf8))
        XCTAssertEqual(fields["CN"], "9011")
        XCTAssertEqual(fields["QN"], "20160801085857223")
        XCTAssertEqual(fields.cpValues["QnRtn"], "3")
        XCTAssertThrowsError(try HJ212Frame.Fields(parsing: Array("QN=1;CN=9014".utf8)), "no CP")
    }
}

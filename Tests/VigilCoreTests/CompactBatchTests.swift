import Foundation
import XCTest
import VigilCore
import VigilTestSupport

/// Version 2 of the batch body: what a receiver reads back from it is, byte for
/// byte, what version 1 sends for the same records.
final class CompactBatchTests: XCTestCase {
    let sentAt = WallTime(milliseconds: fixtureEpochMs + 5_000, clockSynced: true)

    /// Every kind of reading a gateway journals: each value type, raw words, a bit and none, no unit,
    /// a label, a failed poll's error, a calibration mode, an unsynchronised clock, text that needs
    /// escaping; seqs with gaps (events took them) and times that go back (two buses polled at once).
    func varied() -> [StoredRecord] {
        func at(_ ms: Int64, synced: Bool = true) -> WallTime { WallTime(milliseconds: fixtureEpochMs + ms, clockSynced: synced) }
        let readings: [Reading] = [
            Reading(timestamp: at(0), device: "gas-1", point: "gas", value: .float(2.4459012), raw: RawRegisters(words: [0x401c, 0x89a5]),
                    unit: "%LEL", label: nil, quality: .good, error: nil),
            Reading(timestamp: at(-40), device: "level-1", point: "level", value: .double(1.45), raw: RawRegisters(words: [145]),
                    unit: "m", label: nil, quality: .good, error: nil),
            Reading(timestamp: at(12), device: "gpio", point: "smoke", value: .bool(true), raw: .bit(true),
                    unit: nil, label: "alarm", quality: .good, error: nil),
            Reading(timestamp: at(12, synced: false), device: "pump \"A\"", point: "state\\code", value: .int(-3), raw: RawRegisters(words: [0xfffd]),
                    unit: "°C", label: "línea\ttab", quality: .stale, error: nil),
            Reading(timestamp: at(700), device: "gas-2", point: "gas", value: nil, raw: RawRegisters(words: []),
                    unit: "%LEL", label: nil, quality: .bad, error: "timeout after 300 ms", mode: "calibration"),
            Reading(timestamp: at(701), device: "meter", point: "name", value: .string("ABB \"M4M\"\n"), raw: RawRegisters(words: [0x4142]),
                    unit: nil, label: nil, quality: .good, error: nil),
            Reading(timestamp: at(701), device: "meter", point: "energy", value: .uint(18_446_744_073_709_551_615), raw: RawRegisters(words: [1, 2, 3, 4]),
                    unit: "Wh", label: nil, quality: .good, error: nil, mode: "manual"),
        ] + float32Readings(at: at(702))
        let seqs: [UInt64] = [1_000_000, 1_000_001, 1_000_004, 1_000_005, 1_000_006, 1_000_010, 1_000_011] + (1_000_012...1_000_016)
        return zip(seqs, readings).map { StoredRecord(seq: $0, record: .reading($1)) }
    }

    /// float32 points whose registers are the value's bits in each word order (version 2 sends a number
    /// for those), one scaled (its registers are not the value's bits) and one whose value is not a number.
    func float32Readings(at time: WallTime) -> [Reading] {
        let points: [(value: Float, words: [UInt16])] = [
            (23.4, [0x3333, 0x41bb]),           // cdab
            (-0.0, [0x0080, 0x0000]),           // badc
            (1e-40, [0xc216, 0x0100]),          // dcba, a subnormal
            (2.45, [0x0000, 0x00f5]),           // 245 scaled by 0.01
            (.nan, [0x7fc0, 0x0000]),
        ]
        return points.enumerated().map { n, point in
            Reading(timestamp: time, device: "f32", point: "p\(n)", value: .float(point.value), raw: RawRegisters(words: point.words),
                    unit: nil, label: nil, quality: .good, error: nil)
        }
    }

    func batch(_ records: [StoredRecord], lane: JournalLane = .telemetry) -> UplinkBatch {
        UplinkBatch(gateway: "riverbank-07", lane: lane, firstSeq: records.first!.seq, lastSeq: records.last!.seq, records: records)
    }

    func read(_ body: [UInt8]) throws -> (scanned: BatchScanner.Batch, read: CompactBatchReader.Read) {
        try body.withUnsafeBytes { raw in
            let scanned = try BatchScanner.scan(raw)
            return (scanned, try CompactBatchReader.read(scanned, in: raw))
        }
    }

    func version1Objects(_ records: [StoredRecord], raw: Bool = true) -> [[UInt8]] {
        records.filter { !$0.record.isEvent }.map { stored in
            var out: [UInt8] = []
            RecordJSON.append(stored.record, seq: stored.seq, raw: raw, to: &out)
            return Array(out.dropLast())
        }
    }

    func testReadingsReadBackAsTheVersion1ObjectsByteForByte() throws {
        let records = varied()
        for raw in [true, false] {
            let body = batch(records).compactJSON(sentAt: sentAt, status: nil, raw: raw)
            XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(body)), "version 2 is JSON")
            let (scanned, read) = try read(body)
            XCTAssertEqual(scanned.version, 2)
            XCTAssertEqual(read.readings.map { String(decoding: $0, as: UTF8.self) },
                           version1Objects(records, raw: raw).map { String(decoding: $0, as: UTF8.self) })
            XCTAssertEqual(read.batchID, "riverbank-07-1000000-1000016")
        }
    }

    func testTheBatchsOwnFieldsAreNotRepeatedAndItsIDFollowsFromItsRecords() throws {
        let records = varied()
        let v2 = batch(records).compactJSON(sentAt: sentAt, status: nil)
        let text = String(decoding: v2, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix(#"{"v":2,"gateway":"riverbank-07","seq":1000000,"sent_ms":\#(sentAt.milliseconds),"readings":[[0,-5000,"gas-1","gas",2.4459012,1,"%LEL","good"],[1,-40,"level-1""#), text)
        // The float32 shorthand names each word order; a scaled value and a value that is not a number keep their words.
        XCTAssertTrue(text.contains(#""p0",23.4,2,null,"good"],[1,0,"f32","p1",-0.0,3,null,"good"],[1,0,"f32","p2",1e-40,4,null,"#
                                    + #""good"],[1,0,"f32","p3",2.45,"0000 00f5",null,"good"],[1,0,"f32","p4",null,"7fc0 0000""#), text)
        for key in ["batch_id", "last_seq", "lane", "\"events\"", "\"status\""] { XCTAssertFalse(text.contains(key), "\(key) in \(text)") }

        // An events batch: its id ends at its last event's seq, and its events are version 1's objects as they are.
        let events = [StoredRecord(seq: 41, record: event(1)), StoredRecord(seq: 57, record: event(2))]
        let eventsBody = batch(events, lane: .events).compactJSON(sentAt: sentAt, status: nil)
        let (scanned, read) = try read(eventsBody)
        XCTAssertEqual(read.batchID, "riverbank-07-41-57")
        XCTAssertEqual(read.readings.count, 0)
        XCTAssertEqual(scanned.events.map { String(decoding: eventsBody[$0], as: UTF8.self) }, events.map { RecordJSON.line($0.record, seq: $0.seq) })
    }

    func testAStatusGoesAsInVersion1() throws {
        let status = GatewayStatus(uptimeSeconds: 7, pending: [.telemetry: 3], oldestPendingMs: nil, dropped: [:], corruptRecords: 0,
                                   deadLetters: 0, devices: [(id: "gas-1", state: "online")])
        let v1 = String(decoding: batch(varied()).json(sentAt: sentAt, status: status), as: UTF8.self)
        let v2 = String(decoding: batch(varied()).compactJSON(sentAt: sentAt, status: status), as: UTF8.self)
        let statusText = String(v1[v1.range(of: #","status":"#)!.lowerBound...].dropLast())
        XCTAssertTrue(v2.hasSuffix(statusText + "}"), v2)
    }

    func testABadRowIsRefusedNamingTheRowAndWhatWasExpected() throws {
        let head = #"{"v":2,"gateway":"gw","seq":10,"sent_ms":1000,"readings":["#
        let good = #"[0,0,"gas-1","gas",1.5,"3fc0 0000","%LEL","good"]"#
        let cases: [(rows: String, expected: String)] = [
            (good + #",[1,0,"gas-1","gas",1.5,"%LEL","good"]"#, "readings[1]: expected 8 or 9 elements, found 7"),
            (good + #",[0,0,"gas-1","gas",1.5,null,"%LEL","good"]"#, "readings[1]: element 0 (seq step): expected an integer of at least 1"),
            (good + #",[1,0.5,"gas-1","gas",1.5,null,"%LEL","good"]"#, "readings[1]: element 1 (ms step): expected an integer"),
            (#"[0,0,7,"gas",1.5,null,"%LEL","good"]"#, "readings[0]: element 2 (device): expected a string"),
            (#"[0,0,"gas-1","gas",{"a":1},null,"%LEL","good"]"#, "readings[0]: element 4 (value): expected a number, string, boolean or null"),
            (#"[0,0,"gas-1","gas",1.5,5,"%LEL","good"]"#, "readings[0]: element 5 (raw): expected a string, null, or 1 to 4 beside a number (a float32's word order)"),
            (#"[0,0,"gas-1","gas","1.5",1,"%LEL","good"]"#, "readings[0]: element 5 (raw): expected a string, null, or 1 to 4 beside a number (a float32's word order)"),
            (#"[0,0,"gas-1","gas",1,null,"%LEL","good",{"clock_synced":"no"}]"#, "readings[0]: clock_synced: expected true or false"),
            (#"[0,0,"gas-1","gas",1,null,"%LEL","good",{"label":3}]"#, "readings[0]: label: expected a string"),
        ]
        for (rows, expected) in cases {
            let body = Array((head + rows + "]}").utf8)
            XCTAssertThrowsError(try read(body), rows) { error in
                XCTAssertTrue("\(error)".hasSuffix(expected), "\(error)")
            }
        }
        XCTAssertThrowsError(try read(Array(#"{"v":2,"gateway":"gw","seq":10,"readings":[[0,0,"a","b",1,null,null,"good"]]}"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("sent_ms: missing"), "\(error)")
        }
        XCTAssertThrowsError(try read(Array(#"{"v":2,"gateway":"gw","seq":10,"sent_ms":1,"readings":[{"seq":10}]}"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("a reading is not an array"), "\(error)")
        }
    }

    /// docs/uplink-protocol.md's Python reader (an upstream written from the docs) reads what the gateway sends.
    func testTheDocumentedPythonReaderReadsWhatTheGatewaySends() throws {
        let python = try requirePymodbus()
        let records = varied()
        let path = temporaryDirectory() + "/batch.json"
        try Data(batch(records).compactJSON(sentAt: sentAt, status: nil)).write(to: URL(fileURLWithPath: path))
        let run = try runCommand(python, [Repo.peerScript("batch_v2_readings.py"), path])
        XCTAssertEqual(run.status, 0, run.stderr)
        func object(_ line: some Sequence<UInt8>) throws -> NSDictionary { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line)) as? NSDictionary) }
        let read = try run.stdout.split(separator: "\n").map { try object($0.utf8) }
        XCTAssertEqual(read, try version1Objects(records).map(object), run.stdout)
    }

    /// The reader the protocol page shows is the one the test above runs (imports aside).
    func testTheProtocolPageShowsThePythonReaderTheTestsRun() throws {
        let page = try String(contentsOfFile: Repo.path("docs/uplink-protocol.md"), encoding: .utf8)
        let block = try XCTUnwrap(page.components(separatedBy: "```python\n").dropFirst().first?.components(separatedBy: "```").first)
        let shown = block.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("import ") }
            .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let script = try String(contentsOfFile: Repo.peerScript("batch_v2_readings.py"), encoding: .utf8)
        XCTAssertTrue(shown.contains("def readings_of(batch):"), shown)
        XCTAssertTrue(script.contains(shown), "docs/uplink-protocol.md's Python reader differs from Tests/Peers/batch_v2_readings.py")
    }

    /// A rare field a newer gateway adds is kept, after the known ones.
    func testAnUnknownRareFieldIsKept() throws {
        let body = Array(#"{"v":2,"gateway":"gw","seq":10,"sent_ms":1795900000000,"readings":[[0,0,"a","b",1,null,null,"good",{"mode":"x","site":"A"}]]}"#.utf8)
        let read = try read(body)
        XCTAssertEqual(String(decoding: read.read.readings[0], as: UTF8.self),
                       #"{"seq":10,"ts":"2026-11-28T21:06:40.000Z","clock_synced":true,"device":"a","point":"b","value":1,"quality":"good","mode":"x","site":"A"}"#)
    }
}

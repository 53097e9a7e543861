import Foundation
import XCTest
import VigilCore
import VigilTestSupport

/// Crash safety, proved by killing a real `vigil run` while it writes, then
/// checking what survives: SIGKILL alone (the page cache survives), and a
/// simulated power cut (every journal file cut back to its size at its last
/// fsync, as the journal's trace reported it).
final class CrashTests: XCTestCase {
    struct Trace {
        /// Per lane: the last durable seq and the lane's record count then.
        var accepted: [String: (seq: UInt64, records: Int)] = [:]
        /// Per segment file: its size at its last fsync.
        var syncedSizes: [String: Int] = [:]
        /// Per cursor file: the slot that holds its last fsynced cursor.
        var durableCursorSlot: [String: Int] = [:]

        init(_ path: String) {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                let f = line.split(separator: " ").map(String.init)
                if f.count == 3, f[0] == "cursor", let slot = Int(f[2]) { durableCursorSlot[f[1]] = slot; continue }
                guard f.count == 5, let size = Int(f[2]), let seq = UInt64(f[3]), let records = Int(f[4]) else { continue } // a torn last line
                syncedSizes[f[1]] = size
                accepted[f[0]] = (seq, records)
            }
        }
    }

    static func segmentFiles(_ journal: String) -> Set<String> {
        Set(["events", "telemetry"].flatMap { lane in directoryEntries("\(journal)/\(lane)").map { "\(journal)/\(lane)/\($0)" } })
    }

    static func segmentSizes(_ journal: String) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: segmentFiles(journal).map { ($0, (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0) })
    }

    /// A simulated power cut after a SIGKILL: every segment file cut back to its size at its last fsync
    /// of this run (the trace), or to its size when the run started (`before`, durable then) when the run
    /// never fsynced it; a file the run created and never fsynced is unlinked (its name never reached the
    /// disk); the cursor's slot written since its last fsync is torn. Returns the bytes taken away.
    static func cutToLastFsync(_ journal: String, before: [String: Int], trace: Trace) -> Int {
        var bytesCut = 0
        for (cursor, durable) in trace.durableCursorSlot {
            guard let file = FileHandle(forWritingAtPath: cursor) else { continue }
            try? file.seek(toOffset: UInt64((1 - durable) * 4096)) // two slots of CursorFile.slotSize
            file.write(Data(repeating: 0xA5, count: 4096))
            try? file.close()
        }
        for file in segmentFiles(journal) {
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            if let synced = trace.syncedSizes[file] ?? before[file] {
                bytesCut += size - synced
                truncate(file, off_t(synced))
            } else {
                bytesCut += size
                unlink(file)
            }
        }
        return bytesCut
    }

    func runCrashCycles(_ cycles: Int, powerCut: Bool) throws {
        let simPort = freeTCPPort()
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(simPort)", "--device", "1:honeywell-xnx",
                                                "--device", "2:qdy30a-level", "--device", "3:generic-smoke", "--device", "4:msa-ultima-x"])
        XCTAssertTrue(sim.waitFor("serving"))
        defer { sim.stop() }
        let dir = temporaryDirectory()
        let journal = "\(dir)/state/journal"
        // The upstream is unreachable, so nothing is acknowledged or deleted.
        let config = """
            { gateway: { id: 'gw-crash', state_dir: '\(dir)/state' },
              buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(simPort) }],
              devices: [
                { id: 'gas', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 10 },
                { id: 'level', bus: 'sim', unit: 2, profile: 'qdy30a-level', interval_ms: 10 },
                { id: 'smoke', bus: 'sim', unit: 3, profile: 'generic-smoke', interval_ms: 10 },
                { id: 'ultima', bus: 'sim', unit: 4, profile: 'msa-ultima-x', interval_ms: 10 },
              ],
              journal: { commit_ms: 20, segment_bytes: 65536, max_bytes: 268435456 },
              uplink: { kind: 'http', url: 'http://127.0.0.1:\(freeTCPPort())/', timeout_ms: 200 } }
            """
        try config.write(toFile: "\(dir)/vigil.json5", atomically: true, encoding: .utf8)
        var highestAccepted: UInt64 = 0
        var bytesCut = 0
        var generator = SystemRandomNumberGenerator()
        for cycle in 0..<cycles {
            let before = Self.segmentSizes(journal)
            let trace = "\(dir)/trace-\(cycle)"
            let agent = try PeerProcess(Repo.vigil, ["run", "--config", "\(dir)/vigil.json5"], environment: ["VIGIL_JOURNAL_TRACE": trace])
            XCTAssertTrue(eventually(timeout: 10) { Trace(trace).accepted["telemetry"] != nil }, "cycle \(cycle): \(agent.stderr)")
            usleep(UInt32.random(in: 0...250_000, using: &generator))
            kill(agent.process.processIdentifier, SIGKILL)
            agent.process.waitUntilExit()
            let t = Trace(trace)
            if powerCut { bytesCut += Self.cutToLastFsync(journal, before: before, trace: t) }
            try verify(journal, trace: t, cycle: cycle, highestAccepted: &highestAccepted)
        }
        if powerCut { XCTAssertGreaterThan(bytesCut, 0, "the power cuts really took unsynced data away") }
    }

    func verify(_ directory: String, trace: Trace, cycle: Int, highestAccepted: inout UInt64) throws {
        let journal = try Journal(directory: directory)
        XCTAssertEqual(journal.recovery.corruptRecords, 0, "cycle \(cycle): \(journal.recovery.summary)")
        XCTAssertTrue(journal.recovery.movedAside.isEmpty, "cycle \(cycle): \(journal.recovery.summary)")
        var seen = Set<UInt64>()
        for lane in JournalLane.allCases {
            let reader = JournalReader(journal: journal, lane: lane)
            var seqs: [UInt64] = []
            while true {
                let batch = try reader.read(after: seqs.last ?? 0, maxRecords: 10_000)
                if batch.isEmpty { break }
                seqs += batch.map(\.seq)
            }
            XCTAssertEqual(reader.skippedRecords, 0, "cycle \(cycle) \(lane): nothing corrupt is delivered")
            XCTAssertEqual(seqs, seqs.sorted(), "cycle \(cycle) \(lane): in order")
            XCTAssertTrue(seen.isDisjoint(with: seqs), "cycle \(cycle): a seq in both lanes")
            seen.formUnion(seqs)
            if let accepted = trace.accepted[lane.rawValue] {
                XCTAssertEqual(seqs.filter { $0 <= accepted.seq }.count, accepted.records,
                               "cycle \(cycle) \(lane): every record accepted before the crash is there exactly once")
                highestAccepted = max(highestAccepted, accepted.seq)
            }
        }
        // No seq the upstream could have seen (only accepted ones are sent) is issued again.
        let next = try journal.append([event(0)])!.lowerBound
        XCTAssertGreaterThan(next, highestAccepted, "cycle \(cycle)")
        try journal.close()
    }

    func testSIGKILLMidWriteLosesNothingAccepted() throws {
        try runCrashCycles(Int(ProcessInfo.processInfo.environment["VIGIL_CRASH_CYCLES"] ?? "") ?? 50, powerCut: false)
    }

    func testPowerCutLosesNothingAcceptedAndNeverReissuesASeq() throws {
        try runCrashCycles(Int(ProcessInfo.processInfo.environment["VIGIL_CRASH_CYCLES"] ?? "") ?? 50, powerCut: true)
    }
}

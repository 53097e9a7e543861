import Foundation
import XCTest
import VigilLab
import VigilCore
@testable import VigilAgent
import VigilUplink
import VigilAgentTestSupport
import VigilTestSupport

/// Agent → journal → HTTP uplink → `vigil receive`, with a hostile network.
final class StoreAndForwardTests: XCTestCase {
    func lines(_ path: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func config(simPort: Int, receiverPort: Int, state: String, extraDevice: String = "") -> String {
        """
        { gateway: { id: 'gw-sf', state_dir: '\(state)' },
          buses: [{ id: 'sim', kind: 'tcp', host: '127.0.0.1', port: \(simPort), timeout_ms: 200, retries: 0 }],
          devices: [{ id: 'gas', bus: 'sim', unit: 1, profile: 'honeywell-xnx', interval_ms: 50 },
                    { id: 'level', bus: 'sim', unit: 2, profile: 'qdy30a-level', interval_ms: 50 } \(extraDevice)],
          uplink: { kind: 'http', url: 'http://127.0.0.1:\(receiverPort)/ingest', flush_ms: 100, timeout_ms: 2000 } }
        """
    }

    func startSimulator(port: Int) throws -> PeerProcess {
        let sim = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(port)", "--device", "1:honeywell-xnx", "--device", "2:qdy30a-level", "--device", "3:generic-smoke:silent"])
        XCTAssertTrue(sim.waitFor("serving"))
        return sim
    }

    func testEveryReadingArrivesOnceThroughFailuresRateLimitsAndDroppedConnections() throws {
        let simPort = freeTCPPort(), receiverPort = freeTCPPort()
        let sim = try startSimulator(port: simPort)
        defer { sim.stop() }
        let dir = temporaryDirectory()
        let receiver = try PeerProcess(Repo.vigil, ["receive", "--listen", "127.0.0.1:\(receiverPort)", "--out", "\(dir)/out.jsonl",
                                                     "--fail-rate", "0.3", "--rate-limit-rate", "0.1", "--drop-rate", "0.05"])
        XCTAssertTrue(receiver.waitFor("listening"))
        defer { receiver.stop() }
        let configPath = "\(dir)/vigil.json5"
        try config(simPort: simPort, receiverPort: receiverPort, state: "\(dir)/state").write(toFile: configPath, atomically: true, encoding: .utf8)
        let agent = try PeerProcess(Repo.vigil, ["run", "--config", configPath])
        Thread.sleep(forTimeInterval: 4)
        agent.signal(SIGTERM)
        XCTAssertEqual(agent.stop(timeout: 10), 0, agent.stderr)
        // Whatever the agent accepted is in its journal; all of it must arrive.
        let journal = try Journal(directory: "\(dir)/state/journal")
        let accepted = journal.stats.lastSeq
        XCTAssertGreaterThan(accepted, 200)
        // Restart the agent against a healthy path until the backlog is gone (the receiver keeps injecting faults).
        let agent2 = try PeerProcess(Repo.vigil, ["run", "--config", configPath])
        XCTAssertTrue(eventually(timeout: 60) { Set(self.lines("\(dir)/out.jsonl").compactMap { $0["seq"] as? Int }).isSuperset(of: 1...Int(accepted)) },
                      "missing: \(Set(1...Int(accepted)).subtracting(lines("\(dir)/out.jsonl").compactMap { $0["seq"] as? Int }).sorted().prefix(20))")
        agent2.signal(SIGTERM)
        agent2.stop(timeout: 10)
        let seqs = lines("\(dir)/out.jsonl").compactMap { $0["seq"] as? Int }
        XCTAssertEqual(seqs.count, Set(seqs).count, "no reading twice: resent batches carry their id and the receiver drops them")
        XCTAssertTrue(agent.stderr.contains("injected failure") || agent2.stderr.contains("injected failure"), "faults were really injected")
        // The receiver asked for version 2, so the batches after each start's first came in it (and were deduplicated by the ids they name).
        receiver.signal(SIGTERM)
        receiver.stop(timeout: 10)
        let counts = receiver.stderr.split(separator: "\n").last { $0.contains(" batches (") }.map(String.init) ?? ""
        let version2 = counts.firstMatch(of: /batches \((\d+) in version 2\)/).flatMap { Int($0.1) } ?? 0
        XCTAssertGreaterThan(version2, 2, counts)
    }

    func testABacklogFromAnOutageDrainsInOrderAlarmsFirst() throws {
        let simPort = freeTCPPort(), receiverPort = freeTCPPort()
        let sim = try startSimulator(port: simPort)
        defer { sim.stop() }
        let dir = temporaryDirectory()
        let configPath = "\(dir)/vigil.json5"
        try config(simPort: simPort, receiverPort: receiverPort, state: "\(dir)/state",
                   extraDevice: ", { id: 'smoke', bus: 'sim', unit: 3, profile: 'generic-smoke', interval_ms: 50, offline_after: 2 }")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        // The upstream is down from the start: everything piles up in the journal.
        let agent = try PeerProcess(Repo.vigil, ["run", "--config", configPath])
        defer { agent.stop() }
        Thread.sleep(forTimeInterval: 2.5)
        let receiver = try PeerProcess(Repo.vigil, ["receive", "--listen", "127.0.0.1:\(receiverPort)", "--out", "\(dir)/out.jsonl"])
        defer { receiver.stop() }
        XCTAssertTrue(receiver.waitFor("listening"))
        XCTAssertTrue(eventually(timeout: 30) { self.lines("\(dir)/out.jsonl").count > 300 }, agent.stderr)
        Thread.sleep(forTimeInterval: 1)
        let out = lines("\(dir)/out.jsonl")
        let firstTelemetry = out.firstIndex { $0["event"] == nil }!
        let events = out.enumerated().filter { $0.element["event"] != nil }
        XCTAssertTrue(events.contains { $0.element["event"] as? String == "device_offline" && $0.element["device"] as? String == "smoke" },
                      "\(events.map(\.element)) \(agent.stderr)")
        let backlogEvents = events.filter { ($0.element["seq"] as! Int) < (out[firstTelemetry]["seq"] as! Int) + 100 }
        XCTAssertTrue(backlogEvents.allSatisfy { $0.offset < firstTelemetry }, "the events of the outage come before its telemetry")
        let telemetrySeqs = out.filter { $0["event"] == nil }.map { $0["seq"] as! Int }
        XCTAssertEqual(telemetrySeqs, telemetrySeqs.sorted(), "telemetry drains in seq order")
    }

    func testOnlyAContentRefusalDeadLettersAndNeverAnEventsBatch() throws {
        for lane in JournalLane.allCases {
            let dir = temporaryDirectory()
            let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
            let alarm = Record.event(Event(timestamp: WallTime(milliseconds: fixtureEpochMs, clockSynced: true), kind: .alarmRaised, device: "gas-1"))
            try journal.append(lane == .events ? [alarm] : (1...10).map { reading($0) })
            try journal.commit()
            let upstream = RefusingUplink(.rejected(reason: "HTTP 422: bad point"))
            let forwarder = Forwarder(journal: journal, uplink: upstream, gateway: "gw", batching: UplinkBatching(flushMs: 50),
                                      deadLetterDirectory: "\(dir)/dead-letter", log: Logger(threshold: .error))
            forwarder.start()
            if lane == .telemetry {
                XCTAssertTrue(eventually { forwarder.counters.deadLetters == 1 })
                forwarder.stop()
                XCTAssertEqual(directoryEntries("\(dir)/dead-letter"), ["gw-1-10.json"], "the telemetry batch, refused for its content")
                XCTAssertEqual(journal.cursor.acked[.telemetry], 10, "forwarding goes on past it")
            } else {
                XCTAssertTrue(eventually { upstream.events > 1 }, "the events batch is tried again")
                forwarder.stop()
                XCTAssertEqual(forwarder.counters.deadLetters, 0)
                XCTAssertEqual(directoryEntries("\(dir)/dead-letter"), [])
                XCTAssertEqual(journal.cursor.acked[.events] ?? 0, 0, "the alarm stays in the journal")
                XCTAssertTrue(forwarder.counters.lastError?.contains("kept in the journal") ?? false, forwarder.counters.lastError ?? "nil")
            }
        }
    }

    func testABatchTooLargeForTheUpstreamIsSplitNotDeadLettered() throws {
        let dir = temporaryDirectory()
        var options = Receiver.Options()
        options.port = 0
        options.outPath = "\(dir)/out.jsonl"
        options.maxBatchBytes = 3000 // a proxy's body limit: about 60 readings of JSON
        let receiver = try Receiver(options: options)
        receiver.start()
        defer { receiver.stop() }
        var spec = HTTPUplinkSpec(url: "http://127.0.0.1:\(receiver.port)/")
        spec.gzip = false
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        try journal.append((1...400).map { reading($0) })
        try journal.commit()
        let forwarder = Forwarder(journal: journal, uplink: try HTTPUplink(spec: spec, gateway: "gw"), gateway: "gw", batching: UplinkBatching(flushMs: 20),
                                  deadLetterDirectory: "\(dir)/dead-letter", log: Logger(threshold: .error))
        forwarder.start()
        defer { forwarder.stop() }
        XCTAssertTrue(eventually { receiver.counters.readings == 400 }, "\(receiver.counters)")
        XCTAssertGreaterThan(receiver.counters.rejected, 0, "the first batches were answered 413")
        XCTAssertEqual(forwarder.counters.deadLetters, 0)
        XCTAssertEqual(receiver.counters.duplicates, 0)
    }

    func testASingleRecordTooLargeIsDeadLetteredButAnAlarmIsHeld() throws {
        for lane in JournalLane.allCases {
            let dir = temporaryDirectory()
            let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
            let alarm = Record.event(Event(timestamp: WallTime(milliseconds: fixtureEpochMs, clockSynced: true), kind: .alarmRaised, device: "gas-1"))
            try journal.append(lane == .events ? [alarm, alarm] : [reading(1), reading(2)])
            try journal.commit()
            let upstream = RefusingUplink(.tooLarge(reason: "HTTP 413"))
            let forwarder = Forwarder(journal: journal, uplink: upstream, gateway: "gw", batching: UplinkBatching(flushMs: 20),
                                      deadLetterDirectory: "\(dir)/dead-letter", log: Logger(threshold: .error))
            forwarder.start()
            if lane == .telemetry {
                XCTAssertTrue(eventually { journal.cursor.acked[.telemetry] == 2 })
                forwarder.stop()
                XCTAssertEqual(directoryEntries("\(dir)/dead-letter"), ["gw-1-1.json", "gw-2-2.json"], "split down to one record, then set aside")
            } else {
                XCTAssertTrue(eventually { upstream.events > 2 }, "split, then the single alarm tried again")
                forwarder.stop()
                XCTAssertEqual(directoryEntries("\(dir)/dead-letter"), [])
                XCTAssertEqual(journal.cursor.acked[.events] ?? 0, 0, "the alarms stay in the journal")
            }
        }
    }

    func testARefusedEventsBatchDoesNotHoldTelemetryBack() throws {
        let dir = temporaryDirectory()
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        let alarm = Record.event(Event(timestamp: WallTime(milliseconds: fixtureEpochMs, clockSynced: true), kind: .alarmRaised, device: "gas-1"))
        try journal.append([alarm] + (1...10).map { reading($0) })
        try journal.commit()
        let upstream = RefusingUplink(.rejected(reason: "HTTP 422: unknown event"), onlyLane: .events)
        let forwarder = Forwarder(journal: journal, uplink: upstream, gateway: "gw", batching: UplinkBatching(flushMs: 20),
                                  deadLetterDirectory: "\(dir)/dead-letter", log: Logger(threshold: .error))
        forwarder.start()
        defer { forwarder.stop() }
        XCTAssertTrue(eventually { journal.cursor.acked[.telemetry] == 11 }, "telemetry flows while the events lane waits")
        XCTAssertEqual(journal.cursor.acked[.events] ?? 0, 0, "the alarm stays in the journal")
        XCTAssertEqual(directoryEntries("\(dir)/dead-letter"), [])
        // Then the events lane is tried again, with backoff, not in a tight loop.
        let tries = upstream.events
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertLessThanOrEqual(upstream.events - tries, 2)
    }

    func testUnauthorizedIsHeldNotDeadLettered() throws {
        let dir = temporaryDirectory()
        let receiver = try startTestReceiver(in: dir, token: "right-token")
        defer { receiver.stop() }
        try "wrong-token\n".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        var spec = HTTPUplinkSpec(url: "http://127.0.0.1:\(receiver.port)/")
        spec.tokenFile = "\(dir)/token"
        let journal = try Journal(directory: "\(dir)/journal", clock: ManualWallClock())
        try journal.append((1...10).map { reading($0) })
        try journal.commit()
        let forwarder = Forwarder(journal: journal, uplink: try HTTPUplink(spec: spec, gateway: "gw"), gateway: "gw", batching: UplinkBatching(flushMs: 50),
                                  deadLetterDirectory: "\(dir)/dead-letter", log: Logger(threshold: .error))
        forwarder.start()
        defer { forwarder.stop() }
        XCTAssertTrue(eventually { forwarder.counters.authenticationRefused })
        XCTAssertEqual(forwarder.counters.deadLetters, 0)
        XCTAssertEqual(journal.cursor.acked[.telemetry] ?? 0, 0)
        // Fixed on site: the same forwarder reads the new token at its next try.
        try "right-token\n".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        XCTAssertTrue(eventually(timeout: 15) { receiver.counters.readings == 10 })
        // The receiver counts before the forwarder has read its 200, so wait for the forwarder too.
        XCTAssertTrue(eventually { journal.cursor.acked[.telemetry] == 10 && !forwarder.counters.authenticationRefused },
                      "a delivered batch clears the refusal")
        XCTAssertEqual(receiver.counters.rejected, forwarder.counters.failures, "each 401 was one try")
    }

    /// `send_raw: false` from the config to the upstream: readings arrive whole but for `raw`.
    func testRawRegistersStayOnTheGatewayWhenAskedTo() throws {
        let simPort = freeTCPPort()
        let sim = try startSimulator(port: simPort)
        defer { sim.stop() }
        let dir = temporaryDirectory()
        let receiver = try startTestReceiver(in: dir)
        defer { receiver.stop() }
        let configPath = "\(dir)/vigil.json5"
        let text = config(simPort: simPort, receiverPort: receiver.port, state: "\(dir)/state")
        try text.replacingOccurrences(of: "timeout_ms: 2000 }", with: "timeout_ms: 2000, send_raw: false }").write(toFile: configPath, atomically: true, encoding: .utf8)
        let agent = try PeerProcess(Repo.vigil, ["run", "--config", configPath])
        XCTAssertTrue(eventually(timeout: 20) { self.lines("\(dir)/out.jsonl").filter { $0["point"] != nil }.count >= 20 }, agent.stderr)
        agent.signal(SIGTERM)
        XCTAssertEqual(agent.stop(timeout: 10), 0, agent.stderr)
        let readings = lines("\(dir)/out.jsonl").filter { $0["point"] != nil }
        XCTAssertEqual(readings.filter { $0["raw"] != nil }.count, 0, "no raw upstream: \(readings.first ?? [:])")
        XCTAssertEqual(readings.filter { $0["value"] == nil || $0["quality"] == nil || $0["ts"] == nil }.count, 0, "the rest of each reading arrives")
    }

    func testTwoGatewaysSharingAReceiverKeepTheirRecordsApart() throws {
        let dir = temporaryDirectory()
        let receiver = try startTestReceiver(in: dir)
        defer { receiver.stop() }
        for gateway in ["gw-north", "gw-south"] {
            // Both journals count from seq 1.
            let journal = try Journal(directory: "\(dir)/\(gateway)", clock: ManualWallClock())
            try journal.append((1...10).map { reading($0) })
            try journal.commit()
            let forwarder = Forwarder(journal: journal, uplink: try HTTPUplink(spec: HTTPUplinkSpec(url: "http://127.0.0.1:\(receiver.port)/"), gateway: gateway),
                                      gateway: gateway, batching: UplinkBatching(flushMs: 50), deadLetterDirectory: "\(dir)/dead-letter", log: Logger(threshold: .error))
            forwarder.start()
            XCTAssertTrue(eventually { journal.cursor.acked[.telemetry] == 10 })
            forwarder.stop()
        }
        let out = lines("\(dir)/out.jsonl")
        XCTAssertEqual(out.count, 20)
        let keys = out.map { "\($0["gateway"] as? String ?? "none")/\($0["seq"] as? Int ?? -1)" }
        XCTAssertEqual(Set(keys).count, 20, "(gateway, seq) names each record once: \(keys)")
        XCTAssertEqual(Set(out.compactMap { $0["gateway"] as? String }), ["gw-north", "gw-south"])
        XCTAssertEqual(out.first?["point"] as? String, "gas", "the record's own fields follow")
        let firstLine = try String(contentsOfFile: "\(dir)/out.jsonl", encoding: .utf8).prefix { $0 != "\n" }
        XCTAssertTrue(firstLine.hasPrefix("{\"gateway\":\"gw-north\",\"seq\":1,"), String(firstLine))
    }

    func testGzipRoundTripAndCorruptInput() throws {
        let text = Array(String(repeating: "{\"seq\":1,\"value\":23.4}\n", count: 500).utf8)
        let packed = Gzip.compress(text)
        XCTAssertLessThan(packed.count, text.count / 10)
        XCTAssertEqual(Array(packed.prefix(2)), [0x1F, 0x8B], "a gzip header, as Content-Encoding: gzip says")
        XCTAssertEqual(try Gzip.decompress(packed), text)
        XCTAssertThrowsError(try Gzip.decompress(Array(packed.prefix(packed.count / 2))))
        XCTAssertThrowsError(try Gzip.decompress(Array("not gzip at all".utf8)))
    }
}

/// An upstream that answers every batch the same way, counting the events batches and the records it saw.
final class RefusingUplink: Uplink, @unchecked Sendable {
    let name = "refusing"
    private let outcome: UplinkOutcome
    /// When set, only this lane's batches are refused; the other's are delivered.
    private let onlyLane: JournalLane?
    private let lock = NSLock()
    private var eventBatches = 0, recordCount = 0
    init(_ outcome: UplinkOutcome, onlyLane: JournalLane? = nil) { self.outcome = outcome; self.onlyLane = onlyLane }
    var events: Int { lock.withLock { eventBatches } }
    var records: Int { lock.withLock { recordCount } }
    func send(_ batch: UplinkBatch, status: GatewayStatus?) -> UplinkOutcome {
        lock.withLock {
            if batch.lane == .events { eventBatches += 1 }
            recordCount += batch.records.count
        }
        if let onlyLane, batch.lane != onlyLane { return .delivered }
        return outcome
    }
    func sendHeartbeat(_ status: GatewayStatus) -> UplinkOutcome? { nil }
}

import Foundation
import XCTest
import VigilCore
@testable import VigilAgent
import VigilAgentTestSupport
import VigilTestSupport

private func event(_ n: Int) -> Record {
    .event(Event(timestamp: WallTime(milliseconds: Int64(n), clockSynced: true), kind: .deviceOnline, device: "d\(n)"))
}

final class RecordPipelineTests: XCTestCase {

    func testKeepsSubmissionOrderRunsWorkOffTheCallerAndDrainsOnStop() {
        let sink = CollectingSink()
        let pipeline = RecordPipeline(sink: sink, capacity: 16)
        pipeline.start()
        let caller = pthread_self()
        nonisolated(unsafe) var ranOnCaller = false
        for n in 0..<500 {
            pipeline.submit {
                if pthread_equal(pthread_self(), caller) != 0 { ranOnCaller = true }
                return [event(n)]
            }
        }
        pipeline.stop()
        XCTAssertEqual(sink.events.map(\.device), (0..<500).map { "d\($0)" }, "every record, in order, none lost at stop")
        XCTAssertFalse(ranOnCaller, "decoding runs on the pipeline's thread")
    }

    func testAFullQueueMakesTheProducerWait() {
        let slow = SlowSink()
        let pipeline = RecordPipeline(sink: slow, capacity: 4, flushMs: 1)
        pipeline.start()
        let start = Date()
        for n in 0..<12 { pipeline.accept([event(n)]) }
        let elapsed = Date().timeIntervalSince(start)
        pipeline.stop()
        XCTAssertEqual(slow.count, 12)
        XCTAssertGreaterThan(elapsed, 0.1, "with 4 slots, 12 submits wait for the 50 ms sink at least twice")
    }
}

private final class SlowSink: RecordSink, @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var count: Int { lock.lock(); defer { lock.unlock() }; return n }
    func accept(_ records: [Record]) {
        usleep(50_000)
        lock.lock(); n += records.count; lock.unlock()
    }
}

final class RepeatLimiterTests: XCTestCase {
    func testARepeatedMessageIsShownOnceAMinuteWithACount() {
        let limiter = RepeatLimiter(intervalSeconds: 60)
        let s: Int64 = 1_000_000_000
        XCTAssertEqual(limiter.admit(key: "gas", message: "gas: timeout", now: 0), "gas: timeout")
        for t in 1...59 { XCTAssertNil(limiter.admit(key: "gas", message: "gas: timeout", now: Int64(t) * s)) }
        XCTAssertEqual(limiter.admit(key: "level", message: "level: bad CRC", now: 30 * s), "level: bad CRC", "keys are separate")
        XCTAssertEqual(limiter.admit(key: "gas", message: "gas: timeout", now: 61 * s), "gas: timeout (and 59 more like it since)")
        XCTAssertEqual(limiter.admit(key: "gas", message: "gas: exception 2 (illegal data address)", now: 62 * s),
                       "gas: exception 2 (illegal data address)", "a different message shows at once")
    }
}

final class PolledDeviceTests: XCTestCase {
    func testReadingsCarryTheDetectorsModeAndGoStaleWhenItsHeartbeatStops() {
        var mode = PointSpec(id: "state", table: .holding, address: 0, type: .uint16, labels: [1: "normal", 3: "inhibit"])
        mode.role = .mode
        var beat = PointSpec(id: "beat", table: .holding, address: 1, type: .uint16)
        beat.role = .heartbeat
        let gas = PointSpec(id: "gas", table: .holding, address: 2, type: .uint16)
        let device = PolledDevice(spec: DeviceSpec(id: "xcl", bus: "b", unit: 1, points: [mode, beat, gas]),
                                  bus: BusSpec(id: "b", transport: .tcp(host: "h", port: 502)), firstDue: 0)
        func poll(_ state: UInt16, _ heartbeat: UInt16, atSecond s: Int64) -> [Reading] {
            device.readings(device.decoder.decode([.registers([state, heartbeat, 7])]), at: WallTime(milliseconds: s * 1000, clockSynced: true))
                .compactMap { if case .reading(let r) = $0 { r } else { nil } }
        }
        XCTAssertEqual(poll(1, 10, atSecond: 0).map(\.mode), [nil, nil, nil])
        XCTAssertEqual(poll(3, 11, atSecond: 1).map(\.mode), ["inhibit", "inhibit", "inhibit"], "inhibit flags every reading of the poll")
        XCTAssertEqual(poll(1, 11, atSecond: 20).map(\.quality), [.good, .good, .good], "unchanged for 19 s: not yet stale")
        let stuck = poll(1, 11, atSecond: 40)
        XCTAssertEqual(stuck.map(\.quality), [.stale, .stale, .stale])
        XCTAssertEqual(stuck.last?.error, "heartbeat register not advancing")
        XCTAssertEqual(poll(1, 12, atSecond: 41).map(\.quality), [.good, .good, .good], "it advances again")
    }
}

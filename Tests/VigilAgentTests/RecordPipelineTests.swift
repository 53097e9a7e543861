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

    /// A worker left behind at a stop (stuck past its deadline) may still hand in its last poll:
    /// nothing is there to run it, so the submit returns at once and gives its room back.
    func testASubmitAfterTheLastDrainNeitherBlocksNorUnbalancesTheQueue() {
        let sink = CollectingSink()
        var pipeline: RecordPipeline? = RecordPipeline(sink: sink, capacity: 2)
        pipeline!.start()
        pipeline!.submit { [event(1)] }
        pipeline!.stop()
        let done = DispatchSemaphore(value: 0)
        let late = pipeline!
        Thread.detachNewThread {
            for n in 2...6 { late.submit { [event(n)] } } // more than the capacity
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success, "late submits return at once")
        XCTAssertEqual(sink.events.map(\.device), ["d1"])
        pipeline = nil // disposing a semaphore below its start value would trap: this one is back at 2
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

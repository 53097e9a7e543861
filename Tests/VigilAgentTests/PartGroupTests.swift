import Foundation
import Synchronization
import XCTest
import VigilAgent
import VigilCore
import VigilTestSupport

final class PartGroupTests: XCTestCase {
    /// What the parts did, in order.
    private final class Trail: Sendable {
        let steps = Mutex<[String]>([])
        func add(_ step: String) { steps.withLock { $0.append(step) } }
        var all: [String] { steps.withLock { $0 } }
    }

    private func part(_ id: PartID, _ trail: Trail, stopTakes seconds: Double = 0, deadline: Double = 10) -> StepPart {
        StepPart(id, stopDeadlineSeconds: deadline, start: { trail.add("start \(id)") }, stop: {
            if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
            trail.add("stop \(id)")
        })
    }

    func testPartsStartInOrderAndStopInReverse() {
        let trail = Trail()
        let group = PartGroup([part(.forwarder, trail), part(.journalCommit, trail), part(.bus("a"), trail), part(.controlSocket, trail)])
        group.start()
        XCTAssertTrue(group.stop(log: nil).isEmpty)
        XCTAssertEqual(trail.all, ["start forwarder", "start journal commit", "start bus a", "start control socket",
                                   "stop control socket", "stop bus a", "stop journal commit", "stop forwarder"])
    }

    func testAPartStuckInItsStopIsLeftBehindAndTheOthersStillStop() throws {
        let trail = Trail()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let log = Logger(threshold: .info, fd: fds[1], clock: ManualWallClock())
        let group = PartGroup([part(.forwarder, trail), part(.bus("stuck"), trail, stopTakes: 3, deadline: 0.3), part(.gpio, trail)])
        group.start()
        let began = Date()
        XCTAssertEqual(group.stop(log: log), [.bus("stuck")])
        XCTAssertLessThan(Date().timeIntervalSince(began), 2, "the group did not wait for the stuck part")
        XCTAssertEqual(trail.all.filter { $0.hasPrefix("stop") }, ["stop gpio inputs", "stop forwarder"], "the forwarder stopped after it all the same")
        close(fds[1])
        let text = String(decoding: FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.contains("error: bus stuck did not stop within 0.3 s; going on without it"), text)
    }

    func testTheSupervisorRestartsAStuckPartByItsIDAndSaysWhenItCannot() {
        let supervisor = SupervisorService(graceSeconds: 30)
        let restarted = Atomic<Int>(0)
        supervisor.register(.bus("rs485-1"), deadlineSeconds: 5) { restarted.add(1, ordering: .relaxed) }
        supervisor.register(.bus("rs485-2"), deadlineSeconds: 5) { restarted.add(100, ordering: .relaxed) }
        supervisor.register(.journalCommit, deadlineSeconds: 30)
        XCTAssertTrue(supervisor.restart(.bus("rs485-1")))
        XCTAssertEqual(restarted.load(ordering: .relaxed), 1, "only that bus")
        XCTAssertFalse(supervisor.restart(.journalCommit), "no restart registered")
        XCTAssertFalse(supervisor.restart(.bus("elsewhere")))
        supervisor.unregister(.bus("rs485-1"))
        XCTAssertFalse(supervisor.restart(.bus("rs485-1")), "a stopped part is not restarted")
        XCTAssertEqual(supervisor.partNames, ["bus rs485-2", "journal commit"])
    }
}

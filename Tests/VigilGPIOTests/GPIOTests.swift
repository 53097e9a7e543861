import XCTest
import VigilLab
import VigilCore
@testable import VigilGPIO

final class GPIOTests: XCTestCase {
    func testTheFakeLineSourceFeedsTheDebouncer() throws {
        let backend = FakeGPIOBackend()
        let float = GPIOLine(chip: "gpiochip0", offset: 17, activeLow: true, bias: .pullUp)
        let input = try backend.input(float, consumer: "vigil")
        var debouncer = Debouncer(initial: try input.read(), debounceMs: 50)
        let ms: Int64 = 1_000_000
        for (t, level) in [(0, true), (2, false), (4, true)] { backend.push(float, level: level, nanos: Int64(t) * ms) }
        var changes: [Bool] = []
        for edge in try input.waitEdges(timeoutMs: 10) { if let s = debouncer.feed(edge) { changes.append(s) } }
        if let s = debouncer.settle(now: 100 * ms) { changes.append(s) }
        XCTAssertEqual(changes, [true], "a bouncing float switch settles wet once")
        XCTAssertTrue(try input.waitEdges(timeoutMs: 10).isEmpty, "edges are consumed")
    }

    func testOutputsFollowThePlanAndStartInTheirSafeState() throws {
        let backend = FakeGPIOBackend()
        let valve = GPIOLine(chip: "gpiochip0", offset: 5)
        let relay = try backend.output(valve, consumer: "vigil", initial: false)
        var planner = ActionPlanner(rules: [ActionRule(device: "gas-1", level: .highhigh, output: "valve", latch: true)], safeStates: ["valve": false])
        let alarm = AlarmRule(device: "gas-1", point: "gas", level: .highhigh, setpoint: 50, deadband: 2, onDelayMs: 0, offDelayMs: 0, latch: false, severity: nil)
        try relay.set(planner.plan(active: [alarm])["valve"]!)
        try relay.set(planner.plan(active: [])["valve"]!)
        XCTAssertEqual(backend.history(valve), [false, true, true], "safe at start, closed on highhigh, latched after it clears")
    }

    func testLibgpiodReportsAMissingChipClearly() {
        // The only libgpiod path this machine can run: there is no gpiochip here.
        XCTAssertThrowsError(try LibgpiodBackend().input(GPIOLine(chip: "gpiochip-nonexistent", offset: 3), consumer: "vigil")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("gpiochip-nonexistent line 3: cannot open the chip"), text)
        }
    }
}

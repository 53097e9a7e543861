import Foundation
import Glibc
import XCTest
import VigilTestSupport

/// Clients that hold the control socket: a technician still gets `vigil status`.
extension ControlSocketTests {
    private func connectUnix(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        return ok == 0 ? fd : -1
    }

    func testSlowClientsCannotLockTheControlSocket() throws {
        let agent = try startAgent(buses: "{ id: 'dead', kind: 'tcp', host: '127.0.0.1', port: \(freeTCPPort()) }",
                                   devices: "{ id: 'ghost', bus: 'dead', unit: 1, profile: 'qdy30a-level', interval_ms: 1000 }")
        defer { agent.process.stop() }
        // Every slot taken by a client trickling a request one byte a second.
        let tricklers = (0..<16).map { _ in connectUnix(agent.socket) }
        XCTAssertTrue(tricklers.allSatisfy { $0 >= 0 })
        defer { tricklers.forEach { close($0) } }
        let stop = SharedFlag(false)
        let trickle = Thread {
            while !stop.load() {
                for fd in tricklers { _ = send(fd, "{", 1, Int32(MSG_NOSIGNAL)) }
                Thread.sleep(forTimeInterval: 1)
            }
        }
        trickle.start()
        defer { stop.store(true) }
        Thread.sleep(forTimeInterval: 1.5)
        for _ in 0..<3 {
            let started = Date()
            let status = try agent.vigil(["status"])
            XCTAssertEqual(status.status, 0, "status answers though every slot was taken: \(status.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        }
        // A trickled request is cut off at its deadline, not kept alive byte by byte.
        let survivor = try XCTUnwrap(tricklers.last)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(survivor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var chunk = [UInt8](repeating: 0, count: 4096)
        var answer = ""
        while true {
            let n = read(survivor, &chunk, chunk.count)
            if n <= 0 { break }
            answer += String(decoding: chunk[0..<n], as: UTF8.self)
        }
        XCTAssertTrue(answer.isEmpty || answer.contains("request not complete within 5 s"), answer)
        XCTAssertFalse(agent.process.stderr.contains("stuck"), agent.process.stderr)
    }
}

/// A flag shared with the trickling thread.
private final class SharedFlag<T: Sendable>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ value: T) { self.value = value }
    func load() -> T { lock.withLock { value } }
    func store(_ new: T) { lock.withLock { value = new } }
}

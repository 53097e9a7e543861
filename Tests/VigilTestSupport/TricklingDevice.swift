import Foundation
import Glibc
import Synchronization

/// A Modbus TCP device that answers its first `answering` reads with zeros,
/// then wedges its master: it announces a 250-byte answer and sends it one
/// byte at a time, each just inside the byte timeout, so the master's read
/// blocks in libmodbus for about a minute — a fault that blocks a bus worker
/// (not a timeout), as a broken device server or a noisy line can.
public final class TricklingDevice: Sendable {
    public let port: Int
    private let listener: Int32
    private let stopped = Atomic<Bool>(false)
    private let trickling = Atomic<Bool>(false)
    private let byteIntervalMs: Int

    public init(answering: Int, byteIntervalMs: Int = 200) throws {
        self.byteIntervalMs = byteIntervalMs
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            _ = $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        Thread.detachNewThread { [self] in serve(answering: answering) }
    }

    /// True once a read is being trickled (the worker is wedged from now on).
    public var isTrickling: Bool { trickling.load(ordering: .acquiring) }

    /// Closes everything: the wedged read fails and the worker goes on.
    public func stop() {
        stopped.store(true, ordering: .releasing)
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve(answering: Int) {
        var answered = 0
        while !stopped.load(ordering: .acquiring) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            defer { close(client) }
            var request = [UInt8](repeating: 0, count: 12)
            while !stopped.load(ordering: .acquiring), read(client, &request, 12) == 12 {
                let registers = Int(request[10]) << 8 | Int(request[11])
                if answered < answering {
                    answered += 1
                    let count = 2 * registers
                    let answer = Array(request[0..<4]) + [UInt8((count + 3) >> 8), UInt8((count + 3) & 0xff), request[6], request[7], UInt8(count)]
                        + [UInt8](repeating: 0, count: count)
                    _ = answer.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                    continue
                }
                // The header of an answer of 250 bytes (the most a TCP frame holds), then a byte at a time.
                let header = Array(request[0..<4]) + [0, 253, request[6], request[7], 250]
                _ = header.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                trickling.store(true, ordering: .releasing)
                var zero: UInt8 = 0
                for _ in 0..<250 where !stopped.load(ordering: .acquiring) {
                    usleep(UInt32(byteIntervalMs * 1000))
                    if write(client, &zero, 1) != 1 { return }
                }
            }
        }
    }
}

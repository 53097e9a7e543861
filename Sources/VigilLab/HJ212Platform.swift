import Glibc
import Synchronization
import VigilCore
import VigilThreads

/// A reference HJ 212-2017 platform for tests, the bench and rehearsals: takes
/// packets on TCP, checks their length and CRC, keeps each data segment, and
/// answers every packet that asks for it (Flag with bit 0 set) with a data
/// answer, CN=9014 naming its QN — or, with a wrong password, a request answer
/// QnRtn=3. It can stop answering, to play a platform that stores nothing.
public final class HJ212Platform: Sendable {
    public let port: Int
    private let listenFD: Int32
    private let password: String?
    private let acceptThread = StoppableThread()
    private let received = Mutex<[String]>([])
    private let damaged = Atomic<Int>(0)
    private let answering = Atomic<Bool>(true)

    public struct StartError: Error, CustomStringConvertible { public var description: String }

    /// `password`: when set, packets with another PW are refused (QnRtn=3) and not kept.
    public init(host: String = "127.0.0.1", port: Int = 0, password: String? = nil) throws(StartError) {
        do {
            let listener = try TCPListener(host: host, port: port)
            listenFD = listener.fd
            self.port = listener.port
        } catch { throw StartError(description: error.description) }
        self.password = password
    }

    deinit { close(listenFD) }

    public func start() { acceptThread.start(name: "hj212-platform") { [self] in acceptLoop() } }
    public func stop() { acceptThread.stop { shutdown(listenFD, Int32(SHUT_RDWR)) } }

    /// The data segments kept, in the order they came.
    public var packets: [String] { received.withLock { $0 } }
    /// Packets whose length or CRC was wrong.
    public var damagedPackets: Int { damaged.load(ordering: .relaxed) }
    /// Off: packets are read and neither kept nor answered.
    public func setAnswering(_ on: Bool) { answering.store(on, ordering: .releasing) }

    private func acceptLoop() {
        while !acceptThread.isStopping {
            let client = retryingInterrupts { accept(listenFD, nil, nil) }
            if client < 0 { return }
            DedicatedThread(name: "hj212-conn") { [self] in serve(client) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var reader = HJ212FrameReader()
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var damagedCounted = 0
        while !acceptThread.isStopping {
            let n = retryingInterrupts { chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } }
            if n <= 0 { return }
            reader.append(chunk[0..<n])
            var answers: [UInt8] = []
            while let data = reader.next() {
                guard answering.load(ordering: .acquiring), let fields = try? HJ212Frame.Fields(parsing: data),
                      let qn = fields["QN"], let flag = fields["Flag"].flatMap({ Int($0) }) else { continue }
                let mn = fields["MN"] ?? ""
                if let password, fields["PW"] != password {
                    answers += HJ212Frame.encode(Array("QN=\(qn);ST=91;CN=9011;PW=\(fields["PW"] ?? "");MN=\(mn);Flag=4;CP=&&QnRtn=3&&".utf8))
                    continue
                }
                received.withLock { $0.append(String(decoding: data, as: UTF8.self)) }
                if flag & 1 == 1 {
                    answers += HJ212Frame.encode(Array("QN=\(qn);ST=91;CN=9014;PW=\(fields["PW"] ?? "");MN=\(mn);Flag=4;CP=&&&&".utf8))
                }
            }
            damaged.add(reader.damaged - damagedCounted, ordering: .relaxed)
            damagedCounted = reader.damaged
            if !answers.isEmpty { writeAll(fd, answers) }
        }
    }
}

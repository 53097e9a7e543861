import Glibc
import Synchronization
import VigilCore
import VigilUplink
import VigilThreads

/// `vigil receive`: a reference upstream. Accepts batches over HTTP, checks
/// gzip and JSON, drops batches it has seen (by Idempotency-Key, or by the
/// gateway and seqs a version 2 batch names), appends readings and events as
/// JSON Lines (version 1's objects, whichever version came), answers 204 — with
/// `Vigil-Batch: 2` to a version 1 request, so the gateway sends version 2. It can inject faults (500s,
/// 429s with Retry-After, delays, dropped connections) to rehearse outages.
public final class Receiver: Sendable {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// JSON Lines go here (appended); standard output when nil.
        public var outPath: String?
        public var failRate = 0.0
        public var rateLimitRate = 0.0
        public var retryAfterSeconds = 1
        public var delayMs = 0
        public var dropRate = 0.0
        /// When set, requests must carry `Authorization: Bearer <token>`.
        public var token: String?
        /// Batches whose body (as sent, before gzip is undone) is larger are
        /// answered 413, as a proxy's body limit would.
        public var maxBatchBytes: Int?
        /// false: version 2 batches are not asked for, and refused (415) if they come.
        public var takesVersion2 = true
        public init() {}
    }

    public struct Counters: Sendable, Equatable {
        public var batches = 0
        /// Of `batches`, those that came in version 2.
        public var version2Batches = 0
        public var duplicates = 0
        public var readings = 0
        public var events = 0
        public var heartbeats = 0
        public var injectedFailures = 0
        public var rejected = 0
    }

    public let options: Options
    public let port: Int
    private let listenFD: Int32
    private let outFD: Int32
    private let state = Mutex<(seen: Set<String>, counters: Counters)>(([], Counters()))
    private let writeLock = Mutex<Void>(())
    private let acceptThread = StoppableThread()
    private let randomState = Mutex<UInt64>(0x9E37_79B9_7F4A_7C15)
    private let outage = Atomic<Bool>(false)
    private let onBatch: (@Sendable (_ readings: [[UInt8]], _ events: [[UInt8]]) -> Void)?

    public struct StartError: Error, CustomStringConvertible { public var description: String }

    /// `onBatch` sees every batch accepted (the demo prints them).
    public init(options: Options, onBatch: (@Sendable (_ readings: [[UInt8]], _ events: [[UInt8]]) -> Void)? = nil) throws(StartError) {
        self.options = options
        self.onBatch = onBatch
        if let path = options.outPath {
            outFD = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if outFD < 0 { throw StartError(description: "\(path): \(String(cString: strerror(errno)))") }
        } else {
            outFD = STDOUT_FILENO
        }
        let listener: TCPListener
        do { listener = try TCPListener(host: options.host, port: options.port) } catch {
            if options.outPath != nil { close(outFD) }
            throw StartError(description: error.description)
        }
        port = listener.port
        listenFD = listener.fd
    }

    deinit {
        close(listenFD)
        if options.outPath != nil { close(outFD) }
    }

    public var counters: Counters { state.withLock { $0.counters } }

    /// While on, every connection is dropped unanswered: the uplink is cut.
    public func setOutage(_ on: Bool) { outage.store(on, ordering: .releasing) }

    public func start() {
        acceptThread.start(name: "receive") { [self] in acceptLoop() }
    }

    public func stop() {
        // Shutting the listening socket down ends the blocking accept().
        acceptThread.stop { shutdown(listenFD, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while !acceptThread.isStopping {
            let client = retryingInterrupts { accept(listenFD, nil, nil) }
            if client < 0 { return }
            DedicatedThread(name: "receive-conn") { [self] in serve(client) }.start()
        }
    }

    private func chance(_ rate: Double) -> Bool {
        guard rate > 0 else { return false }
        let r = randomState.withLock { s -> UInt64 in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return s
        }
        return Double(r % 1_000_000) / 1_000_000 < rate
    }

    /// One connection: requests until the client closes (keep-alive).
    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var connection = HTTPConnection(fd: fd)
        while !acceptThread.isStopping {
            guard let request = connection.readRequest() else { return }
            if outage.load(ordering: .acquiring) { return }
            if chance(options.dropRate) {
                state.withLock { $0.counters.injectedFailures += 1 }
                return // the connection drops with no answer
            }
            if options.delayMs > 0 { usleep(useconds_t(options.delayMs * 1000)) }
            let response = handle(request)
            guard connection.write(response) else { return }
            if request.header("connection")?.lowercased() == "close" { return }
        }
    }

    /// `read` over the body's bytes (the scanners work on a buffer, not an array).
    private func parse<T>(_ body: [UInt8], _ read: (UnsafeRawBufferPointer) throws(BatchScanner.Failure) -> T) throws(BatchScanner.Failure) -> T {
        let result: Result<T, BatchScanner.Failure> = body.withUnsafeBytes { raw in
            do throws(BatchScanner.Failure) { return .success(try read(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        guard request.method == "POST" else { return HTTPResponse(status: 405, body: "POST batches here\n") }
        if let token = options.token, request.header("authorization") != "Bearer \(token)" {
            state.withLock { $0.counters.rejected += 1 }
            return HTTPResponse(status: 401, body: "missing or wrong bearer token\n")
        }
        if chance(options.failRate) {
            state.withLock { $0.counters.injectedFailures += 1 }
            return HTTPResponse(status: 500, body: "injected failure\n")
        }
        if chance(options.rateLimitRate) {
            state.withLock { $0.counters.injectedFailures += 1 }
            return HTTPResponse(status: 429, headers: ["Retry-After: \(options.retryAfterSeconds)"], body: "slow down\n")
        }
        if let limit = options.maxBatchBytes, request.body.count > limit {
            state.withLock { $0.counters.rejected += 1 }
            return HTTPResponse(status: 413, body: "batch of \(request.body.count) bytes over the limit of \(limit)\n")
        }
        let key = request.header("idempotency-key")
        if let key, state.withLock({ $0.seen.contains(key) }) {
            state.withLock { $0.counters.duplicates += 1 }
            return HTTPResponse(status: 200, body: "{\"duplicate\":true}\n")
        }
        var body = request.body
        if request.header("content-encoding")?.lowercased() == "gzip" {
            do { body = try Gzip.decompress(body) } catch {
                state.withLock { $0.counters.rejected += 1 }
                return HTTPResponse(status: 400, body: "bad gzip: \(error)\n")
            }
        }
        // One pass over the JSON: check it, and find the records to write out as they came.
        let batch: BatchScanner.Batch
        do { batch = try parse(body) { raw throws(BatchScanner.Failure) in try BatchScanner.scan(raw) } } catch {
            state.withLock { $0.counters.rejected += 1 }
            return HTTPResponse(status: 400, body: "bad JSON at \(error)\n")
        }
        guard batch.version == 1 || (batch.version == 2 && options.takesVersion2) else {
            state.withLock { $0.counters.rejected += 1 }
            return HTTPResponse(status: 415, body: "batch version \(batch.version): this receiver takes \(options.takesVersion2 ? "1 and 2" : "1")\n")
        }
        // Asked on every version 1 answer: a gateway that restarted asks again with its first batch.
        let answerHeaders = batch.version == 1 && options.takesVersion2 ? ["Vigil-Batch: 2"] : []
        if batch.heartbeat {
            state.withLock { $0.counters.heartbeats += 1 }
            return HTTPResponse(status: 204, headers: answerHeaders, body: "")
        }
        guard let gateway = batch.gateway else {
            state.withLock { $0.counters.rejected += 1 }
            return HTTPResponse(status: 400, body: "the batch names no gateway\n")
        }
        var readings: [ArraySlice<UInt8>]
        var seenKey = key
        if batch.version == 2 {
            let compact: CompactBatchReader.Read
            do { compact = try parse(body) { raw throws(BatchScanner.Failure) in try CompactBatchReader.read(batch, in: raw) } } catch {
                state.withLock { $0.counters.rejected += 1 }
                return HTTPResponse(status: 400, body: "bad version 2 batch at \(error)\n")
            }
            readings = compact.readings.map { $0[...] }
            // The id version 1's Idempotency-Key carries: a batch sent again in the other version is still a duplicate.
            if state.withLock({ $0.seen.contains(compact.batchID) }) {
                state.withLock { $0.counters.duplicates += 1 }
                return HTTPResponse(status: 200, body: "{\"duplicate\":true}\n")
            }
            seenKey = compact.batchID
        } else {
            readings = batch.readings.map { body[$0] }
        }
        let events = batch.events.map { body[$0] }
        // Seqs count per gateway: each stored record names its own, first.
        let prefix = Array("{\"gateway\":".utf8) + body[gateway]
        var lines: [UInt8] = []
        lines.reserveCapacity(body.count + (events.count + readings.count) * (prefix.count + 1))
        for record in events + readings {
            let fields = record.dropFirst() // after the '{'
            lines.append(contentsOf: prefix)
            if fields.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) != UInt8(ascii: "}") { lines.append(UInt8(ascii: ",")) }
            lines.append(contentsOf: fields)
            lines.append(0x0A)
        }
        // One writer at a time, and the key counts as seen only once written.
        if let error = writeLock.withLock({ _ in writeAll(outFD, lines) }) {
            // Not stored, so not acknowledged: the gateway keeps the batch and sends it again.
            return HTTPResponse(status: 500, body: "cannot store the batch: \(String(cString: strerror(error)))\n")
        }
        onBatch?(readings.map { Array($0) }, events.map { Array($0) })
        state.withLock { s in
            if let seenKey { s.seen.insert(seenKey) }
            s.counters.batches += 1
            if batch.version == 2 { s.counters.version2Batches += 1 }
            s.counters.readings += readings.count
            s.counters.events += events.count
        }
        return HTTPResponse(status: 204, headers: answerHeaders, body: "")
    }
}

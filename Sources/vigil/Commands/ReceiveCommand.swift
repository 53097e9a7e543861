import Glibc
import VigilAgent
import VigilLab

struct ReceiveCommand: Command {
    static let name = "receive"
    static let summary = "a reference upstream: receive batches, write JSON Lines"
    static let usage = """
        vigil receive --listen HOST:PORT [--out FILE] [--token-file FILE]
                      [--fail-rate R] [--rate-limit-rate R] [--retry-after S] [--delay-ms MS] [--drop-rate R]
                      [--max-batch-bytes N] [--batch-version 1|2]

          --listen HOST:PORT   where to listen (an IPv4 address; port 0 picks one)
          --out FILE           append readings and events as JSON Lines here (default: stdout)
          --token-file FILE    require `Authorization: Bearer <the file's content>`
          --fail-rate R        answer this share of requests (0–1) with 500
          --rate-limit-rate R  answer this share with 429 and Retry-After
          --retry-after S      the Retry-After of those 429s (default 1)
          --delay-ms MS        wait this long before each answer
          --drop-rate R        close this share of connections without an answer
          --max-batch-bytes N  answer 413 to a request body larger than N bytes
          --batch-version V    2 (default): ask gateways for version 2 batches and take
                               both; 1: take version 1 only, as an older upstream does

        Checks gzip and JSON, drops batches it has already accepted (a batch resent
        after a crash: by Idempotency-Key, or by the gateway and seqs a version 2
        batch names), answers 204. Records are stored in version 1's shape. Each stored record
        names its gateway first ({"gateway":"gw-1","seq":...}): seqs count per
        gateway, so (gateway, seq) is what identifies a record. Counts go to
        stderr every 10 s and at exit.
        """

    var options = Receiver.Options()

    init(_ arguments: inout Arguments) throws(UsageError) {
        guard let listen = try arguments.option("--listen") else { throw UsageError("--listen HOST:PORT is required") }
        guard case .tcp(let host, let port) = try SimulateCommand.parseTCP(listen, allowPortZero: true) else { throw UsageError("--listen HOST:PORT") }
        options.host = host
        options.port = port
        options.outPath = try arguments.option("--out")
        if let tokenFile = try arguments.option("--token-file") {
            do { options.token = trimmed(try readTextFile(tokenFile)) } catch { throw UsageError("--token-file: \(error)") }
        }
        func rate(_ name: String) throws(UsageError) -> Double {
            let r = try Arguments.number(arguments.option(name), name, as: Double.self) ?? 0
            guard (0...1).contains(r) else { throw UsageError("\(name): \(r) is not between 0 and 1") }
            return r
        }
        options.failRate = try rate("--fail-rate")
        options.rateLimitRate = try rate("--rate-limit-rate")
        options.dropRate = try rate("--drop-rate")
        options.retryAfterSeconds = try Arguments.number(arguments.option("--retry-after"), "--retry-after") ?? 1
        options.delayMs = try Arguments.number(arguments.option("--delay-ms"), "--delay-ms") ?? 0
        options.maxBatchBytes = try Arguments.number(arguments.option("--max-batch-bytes"), "--max-batch-bytes")
        switch try arguments.option("--batch-version") {
        case nil, "2": options.takesVersion2 = true
        case "1": options.takesVersion2 = false
        case let other?: throw UsageError("--batch-version: \(other) is not 1 or 2")
        }
    }

    func run() -> Int32 {
        Signals.blockTermination()
        let receiver: Receiver
        do { receiver = try Receiver(options: options) } catch {
            printError("vigil receive: cannot listen: \(error)")
            return ExitCode.failed
        }
        receiver.start()
        printError("vigil receive: listening on \(options.host):\(receiver.port)")
        while Signals.wait(upToSeconds: 10) == nil { report(receiver) }
        receiver.stop()
        report(receiver)
        return ExitCode.ok
    }

    private func report(_ receiver: Receiver) {
        let c = receiver.counters
        printError("vigil receive: \(c.batches) batches (\(c.version2Batches) in version 2), \(c.readings) readings, \(c.events) events, \(c.duplicates) duplicates dropped, \(c.heartbeats) heartbeats, \(c.injectedFailures) faults injected, \(c.rejected) rejected")
    }
}

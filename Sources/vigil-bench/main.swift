import CModbus
import Glibc
import VigilAgent
import VigilCore
import VigilUplink

/// Benchmark driver for `make bench` (see bench/run.sh): the agent's own
/// polling loop and a plain libmodbus loop, against the same server.
///
///   vigil-bench baseline-loop PORT SECONDS   modbus_read_registers(0, 11) as fast as possible
///   vigil-bench agent-loop PORT SECONDS      a BusWorker polling an XNX profile back to back
///   vigil-bench journal-append DIR SECONDS   readings appended and fsynced by group commit
///   vigil-bench raw-fdatasync DIR SECONDS JOURNAL
///                                            the disk's limit: the journal's own bytes (its segment
///                                            files, over and over) in 4 MiB writes, each followed by fdatasync
///   vigil-bench fill DIR N                   a journal with N readings, none acknowledged
///   vigil-bench drain DIR URL                forward a journal to an upstream until nothing is pending
///   vigil-bench mqtt-drain DIR PORT [FORMAT] forward a journal to a local broker over MQTT (vigil, thingsboard, sparkplug-b)
///   vigil-bench mqtt-drain-slow DIR PORT RTT_MS window|one
///                                            the same through a link of RTT_MS round trip, as the agent sends
///                                            (a window of batches) or one batch, then its PUBACK
///   vigil-bench mqtt-baseline DIR PORT       the same payloads from a plain libmosquitto loop
///   vigil-bench platform PORT                answer Alink and OneNET posts on the broker at PORT until killed
///   vigil-bench alarm-latency PORT URL       poll → alarm fsynced → upstream ack (AlarmLatency.swift)
///   vigil-bench site DIR static|moving on|off http|mqtt|hj212 FORMAT PORT [FLUSH_S]
///                                            an hour of a 14-point site's polls, report by exception on or
///                                            off, sent as the forwarder paces them: bytes on the wire (SiteBytes.swift)
/// Each prints one line of numbers (see bench/run.sh).

func fail(_ message: String) -> Never {
    writeAll(STDERR_FILENO, "vigil-bench: \(message)\n")
    exit(2)
}

func seconds(_ since: Int64) -> Double { Double(monotonicNanos() - since) / 1e9 }

func baselineLoop(port: Int, duration: Double) {
    guard let ctx = modbus_new_tcp("127.0.0.1", Int32(port)), modbus_connect(ctx) == 0 else { fail("cannot connect to 127.0.0.1:\(port)") }
    modbus_set_slave(ctx, 1)
    var words = [UInt16](repeating: 0, count: 11)
    var requests = 0
    let start = monotonicNanos()
    while seconds(start) < duration {
        if modbus_read_registers(ctx, 0, 11, &words) != 11 { fail("read failed: \(String(cString: modbus_strerror(CModbus_errno())))") }
        requests += 1
    }
    let elapsed = seconds(start)
    print("baseline \(requests) \(elapsed) \(Double(requests) / elapsed)")
    modbus_close(ctx)
    modbus_free(ctx)
}

func agentLoop(port: Int, duration: Double) {
    let library = Resources.profileLibrary()
    guard let file = library.resolve("honeywell-xnx", relativeTo: "."), case .success(let profile) = library.load(file: file) else {
        fail("the honeywell-xnx profile is not found")
    }
    let bus = BusSpec(id: "bench", transport: .tcp(host: "127.0.0.1", port: port), timeoutMs: 1000)
    // interval 0: every poll is due at once, so the worker polls back to back
    // through its real schedule, decoding and sink.
    let device = DeviceSpec(id: "xnx", bus: "bench", unit: 1, points: profile.points, intervalMs: 0)
    let devNull = open("/dev/null", O_WRONLY)
    // The same parts as `vigil run`: a worker feeding the record pipeline.
    let pipeline = RecordPipeline(sink: JSONLinesSink(fd: devNull))
    let worker = BusWorker(bus: bus, devices: [device], sink: pipeline)
    let start = monotonicNanos()
    pipeline.start()
    worker.start()
    usleep(useconds_t(duration * 1e6))
    worker.stop()
    pipeline.stop()
    let elapsed = seconds(start)
    let counters = worker.counters
    if counters.failedRequests > 0 { fail("\(counters.failedRequests) requests failed: \(counters.lastError ?? "")") }
    print("agent \(counters.requests) \(elapsed) \(Double(counters.requests) / elapsed)")
}

/// A typical reading: a float32 gas value with its raw words.
func benchReading(_ n: Int) -> Record {
    .reading(Reading(timestamp: WallTime(milliseconds: 1_795_900_000_000 + Int64(n / 8), clockSynced: true), device: "gas-\(n % 50)",
                     point: "gas", value: .float(Float(n % 1000) / 10), raw: RawRegisters(words: [0x41bb, 0x0000]), unit: "%LEL", label: nil, quality: .good, error: nil))
}

/// As in `vigil run`: one thread appends, the committer fsyncs every commit_ms (200).
func journalAppend(dir: String, duration: Double) {
    let journal = try! Journal(directory: dir)
    let committer = JournalCommitter(journal: journal, log: Logger(threshold: .error), onDurable: {})
    let batch = (0..<1000).map(benchReading)
    var appended = 0
    let start = monotonicNanos()
    committer.start()
    while seconds(start) < duration {
        do { try journal.append(batch) } catch { fail("append: \(error)") }
        committer.appended()
        appended += batch.count
    }
    committer.stop() // the last commit: everything counted is accepted
    let elapsed = seconds(start)
    let stats = journal.stats
    print("journal \(appended) \(elapsed) \(Double(appended) / elapsed) \(Double(stats.bytesWritten) / Double(appended))")
}

func rawFdatasync(dir: String, duration: Double, journal: String) {
    // The same bytes the journal wrote, so nothing below the file system can
    // make the baseline faster by what it writes (zeros, a repeated byte).
    var source: [UInt8] = []
    for lane in ["telemetry", "events"] {
        for name in directoryEntries("\(journal)/\(lane)").sorted() where source.count < 64 * 1024 * 1024 {
            if let bytes = try? readFileBytes("\(journal)/\(lane)/\(name)") { source += bytes }
        }
    }
    let chunkSize = 4 * 1024 * 1024
    guard source.count >= chunkSize else { fail("\(journal) holds \(source.count) bytes, less than one 4 MiB write") }
    let file = try! POSIXFile(path: "\(dir)/raw", flags: O_WRONLY | O_CREAT | O_TRUNC)
    var bytes = 0, offset = 0
    let start = monotonicNanos()
    while seconds(start) < duration {
        if offset + chunkSize > source.count { offset = 0 }
        try! source.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + chunkSize])) }
        try! file.dataSync()
        offset += chunkSize
        bytes += chunkSize
    }
    let elapsed = seconds(start)
    print("raw \(bytes) \(elapsed) \(Double(bytes) / elapsed)")
}

func fill(dir: String, count: Int) {
    let journal = try! Journal(directory: dir)
    var n = 0
    while n < count {
        let size = min(10_000, count - n)
        try! journal.append((n..<n + size).map(benchReading))
        n += size
    }
    try! journal.close()
    print("filled \(count) \(journal.stats.bytes)")
}

func rssKB(_ field: String) -> Int {
    let status = (try? readTextFile("/proc/self/status")) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix(field) } ?? ""
    return Int(line.split(separator: " ").dropFirst().first { !$0.isEmpty }.map(String.init) ?? "") ?? 0
}

func drain(dir: String, url: String) {
    let journal = try! Journal(directory: dir)
    let total = journal.stats.pending.values.reduce(0, +)
    // Through a relay that counts the bytes on the wire: http://HOST:PORT/PATH
    let parts = url.split(separator: "/", maxSplits: 2)
    guard parts.count == 3, let port = parts[1].split(separator: ":").last.flatMap({ Int($0) }) else { fail("drain: expected http://127.0.0.1:PORT/PATH") }
    let wire = WireCounter(relayingTo: port)
    var spec = HTTPUplinkSpec(url: "http://127.0.0.1:\(wire.port)/\(parts[2])")
    spec.batching.flushMs = 10
    // A gateway name of its own per journal, so the receiver's de-duplication keeps them apart.
    let gateway = "bench-\(baseName(of: dir))"
    let uplink = try! HTTPUplink(spec: spec, gateway: gateway)
    let forwarder = Forwarder(journal: journal, uplink: uplink, gateway: gateway, batching: UplinkBatching(flushMs: 10),
                              deadLetterDirectory: "\(dir)/dead-letter", log: Logger(threshold: .error))
    let rssBefore = rssKB("VmRSS:")
    let before = wire.bytes
    let start = monotonicNanos()
    forwarder.start()
    while journal.stats.pending.values.reduce(0, +) > 0 { usleep(20_000) }
    let elapsed = seconds(start)
    let bytes = wire.bytes - before
    forwarder.stop()
    print("drain \(total) \(elapsed) \(Double(total) / elapsed) \(rssBefore) \(rssKB("VmHWM:")) \(Double(bytes) / Double(total))")
}

// Every measurement, agent and baseline alike, with the malloc settings vigil run has.
tuneMallocForTheAgent()
let args = CommandLine.arguments
guard args.count == 4 || (args.count == 3 && args[1] == "platform") || (args.count == 5 && ["raw-fdatasync", "mqtt-drain"].contains(args[1])) || (args.count == 6 && args[1] == "mqtt-drain-slow") || ((8...9).contains(args.count) && args[1] == "site") else { fail("usage: see the comment at the top of Sources/vigil-bench/main.swift") }
switch args[1] {
case "baseline-loop": baselineLoop(port: Int(args[2])!, duration: Double(args[3])!)
case "agent-loop": agentLoop(port: Int(args[2])!, duration: Double(args[3])!)
case "journal-append": journalAppend(dir: args[2], duration: Double(args[3])!)
case "raw-fdatasync": rawFdatasync(dir: args[2], duration: Double(args[3])!, journal: args[4])
case "fill": fill(dir: args[2], count: Int(args[3])!)
case "site": site(dir: args[2], kind: args[3], report: args[4], uplink: args[5], format: args[6], port: Int(args[7])!, flushSeconds: args.count > 8 ? Int(args[8])! : 1)
case "drain": drain(dir: args[2], url: args[3])
case "mqtt-drain": mqttDrain(dir: args[2], port: Int(args[3])!, format: args.count > 4 ? args[4] : "vigil")
case "mqtt-drain-slow": mqttDrain(dir: args[2], port: Int(args[3])!, format: "vigil", roundTripMs: Int(args[4])!, oneAtATime: args[5] == "one")
case "mqtt-baseline": mqttBaseline(dir: args[2], port: Int(args[3])!)
case "platform":
    // For `vigil run` with format alink or onenet: their commit point is the platform's reply.
    ThingModelPlatform(port: Int(args[2])!).start()
    _ = write(1, "answering\n", 10) // unbuffered: the bench waits for this line in a file
    while true { pause() }
case "alarm-latency": alarmLatency(port: Int(args[2])!, url: args[3], duration: Double(getenv("BENCH_ALARM_SECONDS").map { String(cString: $0) } ?? "30") ?? 30)
default: fail("unknown benchmark \(args[1])")
}

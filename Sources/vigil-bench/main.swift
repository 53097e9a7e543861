import CModbus
import Glibc
import VigilAgent
import VigilCore

/// Benchmark driver for `make bench` (see bench/run.sh): the agent's own
/// polling loop and a plain libmodbus loop, against the same server.
///
///   vigil-bench baseline-loop PORT SECONDS   modbus_read_registers(0, 11) as fast as possible
///   vigil-bench agent-loop PORT SECONDS      a BusWorker polling an XNX profile back to back
/// Both print one line: "<name> <requests> <seconds> <requests per second>".

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

let args = CommandLine.arguments
guard args.count == 4, let port = Int(args[2]), let duration = Double(args[3]) else {
    fail("usage: vigil-bench baseline-loop|agent-loop PORT SECONDS")
}
switch args[1] {
case "baseline-loop": baselineLoop(port: port, duration: duration)
case "agent-loop": agentLoop(port: port, duration: duration)
default: fail("unknown benchmark \(args[1])")
}

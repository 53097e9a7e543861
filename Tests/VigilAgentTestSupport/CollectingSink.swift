import Foundation
import VigilAgent
import VigilLab
import VigilCore

/// Keeps every record a bus worker hands over, for assertions.
public final class CollectingSink: RecordSink, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Record] = []

    public init() {}

    public func accept(_ records: [Record]) {
        lock.lock(); stored += records; lock.unlock()
    }

    public var records: [Record] { lock.lock(); defer { lock.unlock() }; return stored }

    public var readings: [Reading] {
        records.compactMap { if case .reading(let r) = $0 { return r } else { return nil } }
    }

    public var events: [Event] {
        records.compactMap { if case .event(let e) = $0 { return e } else { return nil } }
    }

    public func readings(of device: String, point: String) -> [Reading] {
        readings.filter { $0.device == device && $0.point == point }
    }

    public func latest(_ device: String, _ point: String) -> Reading? { readings(of: device, point: point).last }
}

/// An in-process `vigil receive` on a free port, writing to `dir/out.jsonl`.
public func startTestReceiver(in dir: String, token: String? = nil) throws -> Receiver {
    var options = Receiver.Options()
    options.port = 0
    options.outPath = "\(dir)/out.jsonl"
    options.token = token
    let receiver = try Receiver(options: options)
    receiver.start()
    return receiver
}

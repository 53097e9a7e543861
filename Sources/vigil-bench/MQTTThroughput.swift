import CMosquittoLoader
import Glibc
import VigilAgent
import VigilCore
import VigilUplink

/// The agent's path: a journal drained through the forwarder and the MQTT
/// uplink (each batch acknowledged on its PUBACK) in `format`.
func mqttDrain(dir: String, port: Int, format name: String, roundTripMs: Int = 0, oneAtATime: Bool = false) {
    let journal = try! Journal(directory: dir)
    let total = journal.stats.pending.values.reduce(0, +)
    let gateway = "bench-\(baseName(of: dir))"
    let wire = WireCounter(relayingTo: port, roundTripMs: roundTripMs)
    let url = "mqtt://127.0.0.1:\(wire.port)"
    let spec = MQTTUplinkSpec(url: url, host: "127.0.0.1", port: wire.port, tls: false)
    let uplink = try! MQTTUplink(spec: spec, gateway: gateway, format: mqttFormat(name, gateway: gateway, prefix: spec.topicPrefix))
    guard uplink.waitUntilConnected(timeoutMs: 5000) else { fail("cannot connect to \(url): \(uplink.lastError ?? "?")") }
    let forwarder = Forwarder(journal: journal, uplink: oneAtATime ? OneBatchAtATime(uplink) : uplink, gateway: gateway, batching: UplinkBatching(flushMs: 10),
                              deadLetterDirectory: "\(dir)/dead-letter", log: Logger(threshold: .error))
    let before = wire.bytes
    let start = monotonicNanos()
    forwarder.start()
    while journal.stats.pending.values.reduce(0, +) > 0 { usleep(5_000) }
    let elapsed = seconds(start)
    let bytes = wire.bytes - before
    forwarder.stop()
    uplink.close()
    print("mqtt-drain \(total) \(elapsed) \(Double(total) / elapsed) \(Double(bytes) / Double(total))")
}

/// An uplink as it was before MQTT sent a window of batches: one, then its PUBACK.
private struct OneBatchAtATime: Uplink {
    let inner: MQTTUplink
    init(_ inner: MQTTUplink) { self.inner = inner }
    var name: String { inner.name }
    func send(_ batch: UplinkBatch, status: GatewayStatus?) -> UplinkOutcome { inner.send(batch, status: status) }
    func sendHeartbeat(_ status: GatewayStatus) -> UplinkOutcome? { inner.sendHeartbeat(status) }
}

/// The baseline: the same payloads (the journal's batches as format vigil
/// makes them, formed before the clock starts) published by a plain
/// libmosquitto loop at QoS 1 with 20 messages in flight, until every PUBACK is in.
func mqttBaseline(dir: String, port: Int) {
    if let error = CMosquitto_load() { fail(String(cString: error)) }
    let journal = try! Journal(directory: dir)
    let gateway = "bench-\(baseName(of: dir))"
    let batcher = LaneBatcher(journal: journal, lane: .telemetry, gateway: gateway, maxRecords: 500, maxBytes: 256 * 1024)
    let format = VigilMessageFormat(gateway: gateway, prefix: "vigil")
    var payloads: [[UInt8]] = [], readings = 0
    let sentAt = WallTime(milliseconds: 1_795_900_000_000, clockSynced: true)
    while let batch = try! batcher.next(requireFull: false) {
        payloads.append(format.messages(for: batch, sentAt: sentAt, status: nil)[0].payload)
        readings += batch.records.count
        try! batcher.acknowledge(batch)
    }
    final class Counts { var acked = 0; var connected = false }
    let counts = Counts()
    guard let m = CMosquitto_new("bench-baseline", true, Unmanaged.passUnretained(counts).toOpaque()) else { fail("mosquitto_new") }
    _ = CMosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5)
    CMosquitto_connect_v5_callback_set(m) { _, user, rc, _, _ in if rc == 0 { Unmanaged<Counts>.fromOpaque(user!).takeUnretainedValue().connected = true } }
    CMosquitto_publish_v5_callback_set(m) { _, user, _, _, _ in Unmanaged<Counts>.fromOpaque(user!).takeUnretainedValue().acked += 1 }
    guard CMosquitto_connect_bind_v5(m, "127.0.0.1", Int32(port), 30, nil) == 0 else { fail("connect") }
    while !counts.connected { _ = CMosquitto_loop(m, 10, 1) }
    let topic = format.topic("telemetry")
    var sent = 0
    let start = monotonicNanos()
    while counts.acked < payloads.count {
        while sent < payloads.count && sent - counts.acked < 20 {
            let rc = payloads[sent].withUnsafeBytes { CMosquitto_publish_v5(m, nil, topic, Int32($0.count), $0.baseAddress, 1, false, nil) }
            if rc != 0 { fail("publish: \(rc)") }
            sent += 1
        }
        _ = CMosquitto_loop(m, 10, 1)
    }
    let elapsed = seconds(start)
    _ = CMosquitto_disconnect_v5(m, 0, nil)
    CMosquitto_destroy(m)
    print("mqtt-baseline \(readings) \(elapsed) \(Double(readings) / elapsed)")
}

import Glibc
import Synchronization
import VigilAgent
import VigilCore
import VigilLab
import VigilUplink

/// The cellular budget: an hour of a site's polls, through the journal sink as
/// `vigil run` has it (so report by exception decides what is journaled), then sent
/// as the forwarder paces them at flush_ms (1 s by default; FLUSH_S) and heartbeat_s
/// (60 s), on a simulated clock: what was reported in each flush interval one batch, a
/// heartbeat after a minute without one. 14 points (ten gas detectors, two levels, two alarm contacts)
/// polled every second. `static`: nothing moves; `moving`: gas drifting and noisy
/// (±0.3 %LEL a poll), levels rising and falling. UPLINK: http (vigil receive on PORT),
/// mqtt (a broker on PORT) or hj212 (the lab platform, started here; each device its own MN);
/// FORMAT as in the config (`vigil-noraw`: format vigil with `send_raw: false`; `vigil-gzip`: over MQTT with `gzip: true`;
/// `vigil-v1`: format vigil, named apart for the row of an upstream that knows only version 1 of the body).
/// Prints `site POLLED JOURNALED UP DOWN OWN`: bytes each way at the TCP payload level,
/// and what the uplink counted itself (what `vigil status` shows).
func site(dir: String, kind: String, report: String, uplink kindOfUplink: String, format: String, port: Int, flushSeconds: Int = 1) {
    let journal = fillSite(dir: dir, kind: kind, report: report)
    let platform = kindOfUplink == "hj212" ? try! HJ212Platform() : nil
    platform?.start()
    // Alink and OneNET commit on the platform's reply: a platform answers through the same broker.
    let cloud = ["alink", "onenet"].contains(format) ? ThingModelPlatform(port: port) : nil
    cloud?.start()
    let wire = WireCounter(relayingTo: platform?.port ?? port)
    let gateway = "site-\(baseName(of: dir))"
    let uplink: any Uplink
    if kindOfUplink == "http" {
        uplink = try! HTTPUplink(spec: HTTPUplinkSpec(url: "http://127.0.0.1:\(wire.port)/\(gateway)"), gateway: gateway,
                                 format: VigilBodyFormat(sendRaw: format != "vigil-noraw"))
    } else if kindOfUplink == "hj212" {
        let password = "\(dir)-password"
        try! FileSystem.replaceAtomically(password, with: Array("123456".utf8))
        let spec = HJ212UplinkSpec(url: "tcp://127.0.0.1:\(wire.port)", host: "127.0.0.1", port: wire.port, systemCode: "31", mn: "BENCH", passwordFile: password)
        var stations: [String: HJ212Format.Station] = [:]
        for detector in 1...10 { stations["gas-\(detector)"] = .init(mn: "BENCH-GAS-\(detector)", codes: ["gas": "a99001"]) }
        for well in 1...2 { stations["level-\(well)"] = .init(mn: "BENCH-LEVEL-\(well)", codes: ["level": "w99001"]) }
        stations["gpio"] = .init(mn: "BENCH-GPIO", codes: ["smoke": "a99003", "float": "w99002"])
        uplink = try! HJ212Uplink(spec: spec, format: HJ212Format(systemCode: "31", stations: stations, utcOffsetMinutes: 480, alarmEvents: true))
    } else {
        var spec = MQTTUplinkSpec(url: "mqtt://127.0.0.1:\(wire.port)", host: "127.0.0.1", port: wire.port, tls: false)
        spec.gzip = format == "vigil-gzip"
        let mqtt = try! MQTTUplink(spec: spec, gateway: gateway, format: mqttFormat(format, gateway: gateway, prefix: spec.topicPrefix))
        guard mqtt.waitUntilConnected(timeoutMs: 5000) else { fail("cannot connect to the broker on \(port): \(mqtt.lastError ?? "?")") }
        uplink = mqtt
    }
    let status = GatewayStatus(uptimeSeconds: 0, pending: [:], oldestPendingMs: nil, dropped: [:], corruptRecords: 0, deadLetters: 0,
                               devices: [])
    let stored = try! JournalReader(journal: journal, lane: .telemetry).read(after: 0, maxRecords: 1_000_000)
    var lastSendMs: Int64 = 0, i = 0
    var statusSchedule = StatusSchedule(everySeconds: 60)
    var batch: [StoredRecord] = []
    for poll in 0..<sitePolls {
        let nowMs = Int64(poll) * 1000
        let time = siteStartMs + nowMs
        while i < stored.count, case .reading(let r) = stored[i].record, r.timestamp.milliseconds == time { batch.append(stored[i]); i += 1 }
        if !batch.isEmpty && ((poll + 1) % flushSeconds == 0 || poll == sitePolls - 1) {
            let carried = uplink.batchesCarryStatus && statusSchedule.isDue(status, nowNanos: nowMs * 1_000_000)
            guard case .delivered = uplink.send(UplinkBatch(gateway: gateway, lane: .telemetry, firstSeq: batch.first!.seq,
                                                            lastSeq: batch.last!.seq, records: batch), status: carried || !uplink.batchesCarryStatus ? status : nil) else { fail("not delivered") }
            if carried {
                lastSendMs = nowMs
                statusSchedule.sent(status, nowNanos: nowMs * 1_000_000)
            }
            batch = []
        }
        if nowMs - lastSendMs >= 60_000 {
            _ = uplink.sendHeartbeat(status)
            lastSendMs = nowMs
            statusSchedule.sent(status, nowNanos: nowMs * 1_000_000)
        }
    }
    uplink.close()
    platform?.stop()
    cloud?.stop()
    print("site \(sitePolls * 14) \(stored.count) \(wire.up) \(wire.down) \(uplink.bytesOnTheWire)")
}

let sitePolls = 3600
/// Now: the hour is played faster than real time, so no reading is older than Alink's and
/// OneNET's 5 minutes when sent, as on a live site (older ones would go as history).
let siteStartMs: Int64 = WallTime.now(kernelSynchronised: true).milliseconds

func mqttFormat(_ name: String, gateway: String, prefix: String) -> any MessageFormat {
    switch name {
    case "thingsboard": ThingsBoardFormat(devices: [])
    case "sparkplug-b": SparkplugFormat(group: "bench", edgeNode: gateway, primaryHost: nil, devices: [])
    case "alink": AlinkFormat(productKey: "a1Bench", deviceName: gateway)
    case "onenet": OneNETFormat(productID: "Bench12345", deviceName: gateway)
    case "iotda": IoTDAFormat(gatewayID: "p_\(gateway)", serviceID: "vigil",
                              childIDs: Dictionary(uniqueKeysWithValues: (["gpio"] + (1...10).map { "gas-\($0)" } + ["level-1", "level-2"]).map { ($0, "p_\($0)") }))
    default: VigilMessageFormat(gateway: gateway, prefix: prefix)
    }
}

/// The site's polls through a journal sink into a fresh journal in `dir`.
private func fillSite(dir: String, kind: String, report: String) -> Journal {
    let journal = try! Journal(directory: dir)
    let committer = JournalCommitter(journal: journal, log: Logger(threshold: .error), onDurable: {})
    var policies = ReportPolicies()
    // As recommended for gas detectors (README): 1 %LEL, an integrity report every 5 minutes.
    if report == "on" { policies.fallback = ReportPolicy(deadband: .absolute(1), everySeconds: 300) }
    let clock = Atomic<Int64>(0)
    let sink = JournalSink(journal: journal, committer: committer, log: Logger(threshold: .error), reporting: policies,
                           monotonicMs: { clock.load(ordering: .relaxed) }, onDurable: {})
    var noise = UInt64(12345)
    func jitter() -> Double { // xorshift: the same "random" site in every run
        noise ^= noise << 13; noise ^= noise >> 7; noise ^= noise << 17
        return Double(noise % 1000) / 1000 - 0.5
    }
    for poll in 0..<sitePolls {
        clock.store(Int64(poll) * 1000, ordering: .relaxed)
        let t = Double(poll)
        let time = WallTime(milliseconds: siteStartMs + Int64(poll) * 1000, clockSynced: true)
        var readings: [Record] = []
        for detector in 1...10 {
            let gas = Float(kind == "moving" ? max(0, 3 + 2 * sin(t / 300 + Double(detector)) + 0.6 * jitter()) : 0)
            // The registers as the detector sends them: a float32 in two words, big-endian word order.
            let raw = RawRegisters(words: [UInt16(gas.bitPattern >> 16), UInt16(gas.bitPattern & 0xFFFF)])
            readings.append(.reading(Reading(timestamp: time, device: "gas-\(detector)", point: "gas", value: .float(gas),
                                             raw: raw, unit: "%LEL", label: nil, quality: .good, error: nil)))
        }
        for well in 1...2 {
            let centimetres = ((kind == "moving" ? 1.2 + 0.3 * sin(t / 900 + Double(well)) : 1.2) * 100).rounded()
            // One register in centimetres, scaled by 0.01.
            readings.append(.reading(Reading(timestamp: time, device: "level-\(well)", point: "level", value: .double(centimetres / 100),
                                             raw: RawRegisters(words: [UInt16(centimetres)]), unit: "m", label: nil, quality: .good, error: nil)))
        }
        for contact in ["smoke", "float"] {
            readings.append(.reading(Reading(timestamp: time, device: "gpio", point: contact, value: .bool(false),
                                             raw: .bit(false), unit: nil, label: nil, quality: .good, error: nil)))
        }
        sink.accept(readings)
    }
    try! journal.commit()
    return journal
}

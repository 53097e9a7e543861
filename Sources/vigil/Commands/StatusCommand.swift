import VigilAgent

struct StatusCommand: Command {
    static let name = "status"
    static let summary = "health at a glance: buses, devices, journal, uplink, watchdog, alarms"

    /// 950 B, 12.3 kB, 4.1 MB: decimal units, as carriers bill.
    static func byteCount(_ bytes: UInt64) -> String {
        switch bytes {
        case ..<1000: "\(bytes) B"
        case ..<1_000_000: "\(Double(bytes / 100) / 10) kB"
        case ..<1_000_000_000: "\(Double(bytes / 100_000) / 10) MB"
        default: "\(Double(bytes / 100_000_000) / 10) GB"
        }
    }
    static let usage = """
        vigil status [--json] [--socket PATH]

        Asks the running agent, through its control socket.
        \(ControlOptions.usage)
        """

    var options: ControlOptions

    init(_ arguments: inout Arguments) throws(UsageError) { options = try ControlOptions(&arguments) }

    func run() -> Int32 {
        options.run(ControlRequest("status"), as: StatusReport.self, render: Self.render)
    }

    static func render(_ s: StatusReport) -> String {
        var out = "vigil \(s.version) · gateway \(s.gateway)\(s.board.map { " · board \($0)" } ?? "") · up \(age(s.uptimeSeconds)) · \(s.config)\n"
        if let waiting = s.configWaitingForRestart, !waiting.isEmpty {
            out += "reloaded, but changes to \(waiting.joined(separator: ", ")) take effect at the next restart (systemctl restart vigil)\n"
        }
        out += "\n"
        var buses = Table("BUS", "ENDPOINT", "STATE", "POLLS", "REQUESTS", "FAILED", "RECONNECTS", "SKIPPED", "LAST ERROR")
        for b in s.buses {
            buses.add(b.id, b.endpoint, b.state, "\(b.polls)", "\(b.requests)", "\(b.failedRequests)", "\(b.reconnects)", "\(b.skippedSlots)",
                      b.lastError ?? "-")
        }
        var devices = Table("DEVICE", "BUS", "UNIT", "STATE", "LAST GOOD POLL", "POLLS", "FAILED", "SKIPPED", "RESPONSE", "LAST ERROR")
        for d in s.devices {
            devices.add(d.id, d.bus, "\(d.unit)", d.state, d.lastGoodPoll ?? "never", "\(d.polls)", "\(d.failedPolls)", "\(d.skippedSlots)",
                        d.responseMs.map { String(format1: $0) + " ms" } ?? "-", d.lastError ?? "-")
        }
        out += buses.text + "\n\n" + devices.text + "\n\n"
        let q = s.queue
        out += "journal   \(q.pendingEvents) events and \(q.pendingTelemetry) readings pending, \(q.bytes / 1024) KiB, oldest \(age(q.oldestPendingAgeSeconds)); "
        out += "dropped \(q.droppedEvents) events, \(q.droppedTelemetry) readings; \(q.corruptRecords) corrupt; last seq \(q.lastSeq)\n"
        if let error = q.writeError {
            out += "          \(error.contains("No space") ? "DISK FULL" : "WRITE FAILING"): \(error); new readings are dropped and counted, alarms still evaluated\n"
        }
        let u = s.uplink
        out += "uplink    \(u.name): \(u.state)\(u.state == "ok" ? "" : ", next try in \(u.backoffMs) ms"); last success \(u.lastSuccess ?? "never"); "
        out += "\(u.batchesDelivered) batches, \(u.recordsDelivered) records delivered; \(u.deadLetters) dead letters\(u.lastError.map { "; last error: \($0)" } ?? "")\n"
        out += "          on the wire: \(byteCount(u.bytesToday)) today, \(byteCount(u.bytesLast30Days)) in the last 30 days (UTC days)\n"
        let w = s.watchdog
        out += "watchdog  last fed \(w.lastFeedSecondsAgo.map { age($0) + " ago" } ?? "not yet (no systemd watchdog or hardware watchdog asked)")"
        out += "\(w.hardwareDevice.map { "; hardware \($0)" } ?? "")\(w.stuckParts.isEmpty ? "" : "; STUCK: \(w.stuckParts.joined(separator: ", "))")\n"
        out += "alarms    " + (s.alarms.isEmpty ? "none active" : s.alarms.map(describe).joined(separator: ", "))
        if !s.outputs.isEmpty {
            out += "\noutputs   " + s.outputs.map { "\($0.id) \($0.state)\($0.overridden ? " (override)" : "")" }.joined(separator: ", ")
        }
        return out
    }
}

/// An active alarm in a line; one whose device is offline says that nobody can confirm it now.
func describe(_ alarm: AlarmReport) -> String {
    "\(alarm.id) (setpoint \(format(alarm.setpoint)))" + (alarm.deviceOffline ? " DEVICE OFFLINE: last known state" : "")
}

/// A setpoint without a needless ".0".
func format(_ v: Double) -> String { v.rounded() == v && abs(v) < 1e15 ? "\(Int(v))" : "\(v)" }

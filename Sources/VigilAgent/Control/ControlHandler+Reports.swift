import Glibc
import VigilCore
import VigilUplink

extension ControlHandler {
    func status() -> StatusReport {
        let config = daemon.config
        var buses: [StatusReport.Bus] = []
        var devices: [StatusReport.Device] = []
        for bus in config.buses {
            guard let worker = daemon.agent.workers.first(where: { $0.bus.id == bus.id }) else {
                buses.append(StatusReport.Bus(id: bus.id, endpoint: bus.transport.endpointName, state: "no devices", lastError: nil,
                                              polls: 0, requests: 0, failedRequests: 0, reconnects: 0, skippedSlots: 0))
                continue
            }
            let c = worker.counters
            buses.append(StatusReport.Bus(id: bus.id, endpoint: bus.transport.endpointName,
                                          state: c.connected ? "connected" : c.triedToOpen ? "down" : "opening", lastError: c.lastError,
                                          polls: c.polls, requests: c.requests, failedRequests: c.failedRequests, reconnects: c.reconnects,
                                          skippedSlots: c.overruns))
            for spec in worker.deviceSpecs {
                let d = c.devices[spec.id] ?? DeviceStatus()
                devices.append(StatusReport.Device(id: spec.id, bus: bus.id, unit: spec.unit, state: d.state.rawValue,
                                                   lastGoodPoll: d.lastGoodPoll?.iso8601, polls: d.polls, failedPolls: d.failedPolls,
                                                   lastError: d.lastError, responseMs: d.responseMs, skippedSlots: d.skippedSlots))
            }
        }
        let f = daemon.forwarder.counters
        let watchdog = daemon.watchdogState.withLock { $0 }
        let mono = monotonicNanos()
        let traffic = daemon.traffic.totals()
        return StatusReport(
            version: vigilVersion, gateway: config.gateway.id, board: config.gateway.board?.name,
            uptimeSeconds: Double(mono - daemon.startedAt) / 1e9, config: config.file,
            configWaitingForRestart: daemon.configState.waitingForRestart, buses: buses, devices: devices, queue: queue(),
            uplink: StatusReport.Uplink(name: daemon.forwarder.uplink.name, state: daemon.forwarder.isHealthy ? "ok" : f.authenticationRefused ? "authentication refused" : "retrying",
                                        lastSuccess: f.lastSuccess?.iso8601, lastError: f.lastError, backoffMs: f.backoffMs,
                                        batchesDelivered: f.batchesDelivered, recordsDelivered: f.recordsDelivered, deadLetters: daemon.forwarder.deadLettersOnDisk,
                                        bytesToday: traffic.today, bytesLast30Days: traffic.last30Days),
            watchdog: StatusReport.Watchdog(lastFeedSecondsAgo: watchdog.lastFeed.map { Double(mono - $0) / 1e9 },
                                            hardwareDevice: config.watchdog.device, stuckParts: watchdog.stuck.map(\.description)),
            alarms: activeAlarms(), outputs: outputs())
    }

    /// The active alarms, each flagged when its device has gone offline.
    func activeAlarms() -> [AlarmReport] {
        let offline = Set(daemon.agent.workers.flatMap { $0.counters.devices.filter { $0.value.state == .offline }.map(\.key) })
        return daemon.sink.activeAlarms.map { rule in
            var report = AlarmReport(rule)
            report.deviceOffline = offline.contains(rule.device)
            return report
        }
    }

    func queue() -> StatusReport.Queue {
        let s = daemon.journal.stats
        let now = SystemClock.shared.now().milliseconds
        return StatusReport.Queue(pendingEvents: s.pending[.events] ?? 0, pendingTelemetry: s.pending[.telemetry] ?? 0, bytes: s.bytes,
                                  oldestPendingAgeSeconds: daemon.forwarder.oldestPendingMs.map { Double(now - $0) / 1000 },
                                  droppedEvents: s.dropped[.events] ?? 0, droppedTelemetry: s.dropped[.telemetry] ?? 0,
                                  corruptRecords: s.corruptRecords, lastSeq: s.lastSeq, writeError: daemon.journal.writeError)
    }

    /// The next records the forwarder will send, events first, read from disk.
    func peek(_ count: Int) -> [UInt8] {
        var entries: [QueuePeekReport.Entry] = []
        for lane in JournalLane.allCases where entries.count < count {
            let reader = JournalReader(journal: daemon.journal, lane: lane)
            do {
                let records = try reader.read(after: daemon.journal.cursor.acked[lane] ?? 0, maxRecords: count - entries.count)
                entries += records.map { QueuePeekReport.Entry(seq: $0.seq, lane: lane.rawValue, json: RecordJSON.line($0.record, seq: $0.seq)) }
            } catch {
                return failure("journal: \(error)", ControlCode.failed)
            }
        }
        return ControlServer.encode(ControlReply(result: QueuePeekReport(records: entries)))
    }

    var deadLetterDirectory: String { "\(daemon.config.gateway.stateDir)/dead-letter" }

    func deadLetterList() -> [DeadLetterReport.Entry] {
        directoryEntries(deadLetterDirectory).filter { !$0.hasPrefix(".") }.sorted().map { name in
            var st = stat()
            let path = "\(deadLetterDirectory)/\(name)"
            _ = stat(path, &st)
            let modified = WallTime(milliseconds: Int64(st.st_mtim.tv_sec) * 1000, clockSynced: true).iso8601
            return DeadLetterReport.Entry(name: name, bytes: Int(st.st_size), modified: modified)
        }
    }

    /// list; retry NAME (POST it again: its batch id keeps it from being counted twice); retry-all; delete NAME.
    func deadLetters(_ request: ControlRequest, peer: String) -> [UInt8] {
        func report(_ done: String? = nil) -> [UInt8] {
            ControlServer.encode(ControlReply(result: DeadLetterReport(directory: deadLetterDirectory, letters: deadLetterList(), done: done)))
        }
        switch request.command {
        case "dead-letters": return report()
        case "dead-letters.retry-all":
            let names = deadLetterList().map(\.name)
            for (i, name) in names.enumerated() {
                if let why = retryDeadLetter(name, peer: peer) {
                    return failure("sent \(i) of \(names.count) again; stopped at \(why)", ControlCode.failed)
                }
            }
            return report("delivered \(names.count) dead letter(s)")
        default: break
        }
        guard let name = request.name, !name.contains("/"), deadLetterList().contains(where: { $0.name == name }) else {
            return failure("no dead letter \"\(request.name ?? "")\" in \(deadLetterDirectory)", ControlCode.usage)
        }
        if request.command == "dead-letters.delete" {
            do { try FileSystem.remove("\(deadLetterDirectory)/\(name)") } catch { return failure("\(error)", ControlCode.failed) }
            log.warning("control: \(peer) deleted dead letter \(name)")
            return report("deleted \(name)")
        }
        if let why = retryDeadLetter(name, peer: peer) { return failure(why, ControlCode.failed) }
        return report("delivered \(name)")
    }

    /// POSTs one dead letter again and removes it once delivered; the reason when it was not.
    private func retryDeadLetter(_ name: String, peer: String) -> String? {
        guard case .http(let spec) = daemon.config.uplink else { return "the uplink is not http: nowhere to retry to" }
        // Dead letters are kept as Vigil batch JSON: only a vigil-format upstream takes them as they are.
        guard spec.format == .vigil else {
            return "dead letters are kept as Vigil batch JSON, which a \(spec.format.rawValue) upstream does not take; import its readings from \(deadLetterDirectory)/\(name), then delete it"
        }
        let path = "\(deadLetterDirectory)/\(name)"
        let body: [UInt8]
        do { body = try readFileBytes(path) } catch { return "\(error)" }
        let uplink: HTTPUplink
        do { uplink = try httpUplink(spec, config: daemon.config) } catch { return "uplink: \(error)" }
        let key = name.hasSuffix(".json") ? String(name.dropLast(5)) : name
        let exchange = uplink.post(body, idempotencyKey: key)
        log.warning("control: \(peer) retried dead letter \(name): \(exchange.outcome)")
        guard exchange.outcome == UplinkOutcome.delivered else {
            return "dead letter \(name): \(exchange.error ?? exchange.httpStatus.map { "HTTP \($0)" } ?? "not delivered"); kept"
        }
        do { try FileSystem.remove(path) } catch { return "\(error)" }
        return nil
    }
}

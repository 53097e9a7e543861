import VigilAgent

struct QueueCommand: Command {
    static let name = "queue"
    static let summary = "the journal's backlog: stats, the next records, dead letters"
    static let usage = """
        vigil queue                              what waits in the journal
        vigil queue peek [N]                     the next N records to be sent (default 10), events first
        vigil queue dead-letters                 batches the upstream refused for good
        vigil queue dead-letters retry NAME      post one again (it keeps its batch id)
        vigil queue dead-letters retry --all     post them all again, oldest first, stopping at the first failure
        vigil queue dead-letters delete NAME --yes
        \(ControlOptions.usage)
        """

    enum Action { case stats, peek(Int), deadLetters, retry(String), retryAll, delete(String) }
    var options: ControlOptions
    var action: Action

    init(_ arguments: inout Arguments) throws(UsageError) {
        options = try ControlOptions(&arguments)
        let yes = arguments.flag("--yes"), all = arguments.flag("--all")
        switch arguments.positional() {
        case nil: action = .stats
        case "peek": action = .peek(try Arguments.number(arguments.positional(), "N") ?? 10)
        case "dead-letters":
            switch arguments.positional() {
            case nil: action = .deadLetters
            case "retry" where all:
                action = .retryAll
            case "retry":
                guard let name = arguments.positional() else { throw UsageError("which dead letter? (see vigil queue dead-letters)") }
                action = .retry(name)
            case "delete":
                guard let name = arguments.positional() else { throw UsageError("which dead letter? (see vigil queue dead-letters)") }
                guard yes else { throw UsageError("deleting a dead letter loses its readings: add --yes") }
                action = .delete(name)
            case let other?: throw UsageError("dead-letters: unknown action '\(other)' (retry or delete)")
            }
        case let other?: throw UsageError("unknown action '\(other)' (peek or dead-letters)")
        }
    }

    func run() -> Int32 {
        switch action {
        case .stats:
            return options.run(ControlRequest("queue"), as: StatusReport.Queue.self) { q in
                var t = Table("LANE", "PENDING", "DROPPED")
                t.add("events", "\(q.pendingEvents)", "\(q.droppedEvents)")
                t.add("telemetry", "\(q.pendingTelemetry)", "\(q.droppedTelemetry)")
                return t.text + "\n\(q.bytes / 1024) KiB on disk; oldest pending \(age(q.oldestPendingAgeSeconds)); \(q.corruptRecords) corrupt records skipped; last seq \(q.lastSeq)"
            }
        case .peek(let n):
            var request = ControlRequest("queue.peek")
            request.count = n
            return options.run(request, as: QueuePeekReport.self) { r in
                r.records.isEmpty ? "nothing pending" : r.records.map(\.json).joined(separator: "\n")
            }
        case .deadLetters, .retry, .retryAll, .delete:
            var request = ControlRequest("dead-letters")
            if case .retry(let name) = action { request.command = "dead-letters.retry"; request.name = name }
            if case .retryAll = action { request.command = "dead-letters.retry-all" }
            if case .delete(let name) = action { request.command = "dead-letters.delete"; request.name = name }
            return options.run(request, as: DeadLetterReport.self) { r in
                var t = Table("NAME", "BYTES", "REFUSED AT")
                for l in r.letters { t.add(l.name, "\(l.bytes)", l.modified) }
                return (r.done.map { "\($0)\n" } ?? "") + (r.letters.isEmpty ? "no dead letters in \(r.directory)" : t.text)
            }
        }
    }
}

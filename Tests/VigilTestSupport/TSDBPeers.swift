import Foundation
import XCTest

/// HTTP to a local peer through the repo's Python (urllib): GET or POST, the status and body.
public func httpRequest(_ url: String, body: String? = nil) throws -> (status: Int, body: String) {
    let python = try requirePeer("python (.venv)", at: Repo.python)
    let script = """
        import sys, urllib.request, urllib.error
        data = sys.argv[2].encode() if len(sys.argv) > 2 else None
        try:
            r = urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=data), timeout=10)
            print(r.status); sys.stdout.write(r.read().decode())
        except urllib.error.HTTPError as e:
            print(e.code); sys.stdout.write(e.read().decode())
        """
    let result = try runCommand(python, ["-c", script, url] + (body.map { [$0] } ?? []))
    guard result.status == 0, let newline = result.stdout.firstIndex(of: "\n"), let status = Int(result.stdout[..<newline]) else {
        throw MissingPeer(description: "HTTP \(url): \(result.stderr)")
    }
    return (status, String(result.stdout[result.stdout.index(after: newline)...]))
}

/// InfluxDB 1.x from Debian (`influxdb`), on free loopback ports, with a database `vigil`.
public final class InfluxServer: @unchecked Sendable {
    public let port: Int
    public let process: PeerProcess

    public init(in dir: String) throws {
        let influxd = try requirePeer("influxd (Debian's influxdb)", at: "/usr/bin/influxd")
        port = freeTCPPort()
        try """
            reporting-disabled = true
            bind-address = "127.0.0.1:\(freeTCPPort())"
            [meta]
              dir = "\(dir)/influx/meta"
            [data]
              dir = "\(dir)/influx/data"
              wal-dir = "\(dir)/influx/wal"
            [http]
              bind-address = "127.0.0.1:\(port)"
              log-enabled = false
            [monitor]
              store-enabled = false
            """.write(toFile: "\(dir)/influxdb.conf", atomically: true, encoding: .utf8)
        process = try PeerProcess(influxd, ["-config", "\(dir)/influxdb.conf"])
        guard eventually(timeout: 30, { canConnect(self.port) || !self.process.process.isRunning }), process.process.isRunning else {
            process.stop()
            throw MissingPeer(description: "influxd did not start: \(process.stderr.suffix(2000))")
        }
        _ = try httpRequest("http://127.0.0.1:\(port)/query", body: "q=CREATE DATABASE vigil")
    }

    /// `SELECT …` against database vigil, timestamps in ms: the rows of the first series as dictionaries.
    public func query(_ q: String) throws -> [[String: Any]] {
        let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let (_, body) = try httpRequest("http://127.0.0.1:\(port)/query?db=vigil&epoch=ms&q=\(encoded)")
        let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        guard let series = ((json?["results"] as? [[String: Any]])?.first?["series"] as? [[String: Any]])?.first,
              let columns = series["columns"] as? [String], let values = series["values"] as? [[Any]] else { return [] }
        return values.map { Dictionary(uniqueKeysWithValues: zip(columns, $0)) }
    }

    public func stop() { process.stop() }
    deinit { stop() }
}

/// VictoriaMetrics from Debian (`victoria-metrics`), on a free loopback port.
public final class VictoriaMetricsServer: @unchecked Sendable {
    public let port: Int
    public let process: PeerProcess

    public init(in dir: String) throws {
        let binary = try requirePeer("victoria-metrics (Debian's victoria-metrics)", at: "/usr/bin/victoria-metrics")
        port = freeTCPPort()
        // 100 years: the fixtures' timestamps are old by the time `make test-future` runs; 1 ms dedup: a resent point overwrites.
        process = try PeerProcess(binary, ["-storageDataPath=\(dir)/vm", "-httpListenAddr=127.0.0.1:\(port)", "-retentionPeriod=100y",
                                           "-dedup.minScrapeInterval=1ms", "-loggerLevel=ERROR"])
        guard eventually(timeout: 30, { canConnect(self.port) || !self.process.process.isRunning }), process.process.isRunning else {
            process.stop()
            throw MissingPeer(description: "victoria-metrics did not start: \(process.stderr.suffix(2000))")
        }
    }

    /// Every sample of the series matching `selector`, after a flush: (labels, [(timestamp ms, value)]).
    public func export(_ selector: String) throws -> [(labels: [String: String], samples: [(Int, Double)])] {
        _ = try httpRequest("http://127.0.0.1:\(port)/internal/force_flush")
        let encoded = selector.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let (_, body) = try httpRequest("http://127.0.0.1:\(port)/api/v1/export?match[]=\(encoded)")
        return body.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let labels = o["metric"] as? [String: String], let values = o["values"] as? [Double], let times = o["timestamps"] as? [Int] else { return nil }
            return (labels, Array(zip(times, values)))
        }
    }

    public func stop() { process.stop() }
    deinit { stop() }
}

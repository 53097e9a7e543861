import Foundation
import XCTest
import VigilTestSupport

/// The `vigil` binary as an installer and a service manager use it.
final class CommandLineTests: XCTestCase {
    func write(_ text: String, to name: String) throws -> String {
        let path = "\(temporaryDirectory())/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testConfigCheckListsEveryErrorAndExits2() throws {
        let path = try write("""
            {
              gateway: { id: 'gw' },
              buses: [{ id: 'b', kind: 'tcp', host: 'h' }],
              devices: [
                { id: 'd', bus: 'b', unit: 1, points: [{ id: 'p', table: 'holding', address: 70000 }] },
                { id: 'e', bus: 'c', unit: 1, profile: 'generic-smoke' },
              ],
            }
            """, to: "vigil.json5")
        let r = try runCommand(Repo.vigil, ["config", "check", path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("\(path):5:82: devices[0].points[0].address: 70000 is outside 0…65535"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(path):6:21: devices[1].bus: no bus has the id \"c\"; did you mean \"b\"?"), r.stderr)
        XCTAssertTrue(r.stderr.contains("2 error(s)"), r.stderr)
    }

    func testConfigCheckAcceptsTheShippedExamples() throws {
        let r = try runCommand(Repo.vigil, ["config", "check", Repo.path("Examples/demo.json5")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("ok — gateway demo-gateway, 1 bus(es), 3 device(s)"), r.stdout)
        for example in ["garage-gas-and-flood.json5", "mqtt.json5", "sparkplug.json5"] {
            let other = try runCommand(Repo.vigil, ["config", "check", Repo.path("Examples/\(example)")])
            XCTAssertEqual(other.status, 0, "\(example): \(other.stderr)")
        }
        // The ThingsBoard example names the token file an installer writes: one of ours stands in.
        let token = try write("A1_TEST_TOKEN\n", to: "tb-token")
        chmod(token, 0o600)
        let text = try String(contentsOfFile: Repo.path("Examples/thingsboard.json5"), encoding: .utf8)
        XCTAssertTrue(text.contains("/etc/vigil/tb-token"))
        let copy = try write(text.replacingOccurrences(of: "/etc/vigil/tb-token", with: token), to: "thingsboard.json5")
        let tb = try runCommand(Repo.vigil, ["config", "check", copy])
        XCTAssertEqual(tb.status, 0, tb.stderr)
        let secret = try write("s3cr3t\n", to: "alink-secret")
        chmod(secret, 0o600)
        let alink = try String(contentsOfFile: Repo.path("Examples/alink.json5"), encoding: .utf8)
        XCTAssertTrue(alink.contains("/etc/vigil/alink-secret"))
        let alinkChecked = try runCommand(Repo.vigil, ["config", "check", try write(alink.replacingOccurrences(of: "/etc/vigil/alink-secret", with: secret), to: "alink.json5")])
        XCTAssertEqual(alinkChecked.status, 0, alinkChecked.stderr)
        let key = try write("s6W5Qf29VVc1gaUfA5VBt+XZbyPBC/Wpk7Ntf7vNE0E=\n", to: "onenet-key")
        chmod(key, 0o600)
        let onenet = try String(contentsOfFile: Repo.path("Examples/onenet.json5"), encoding: .utf8)
        XCTAssertTrue(onenet.contains("/etc/vigil/onenet-key"))
        let onenetChecked = try runCommand(Repo.vigil, ["config", "check", try write(onenet.replacingOccurrences(of: "/etc/vigil/onenet-key", with: key), to: "onenet.json5")])
        XCTAssertEqual(onenetChecked.status, 0, onenetChecked.stderr)
        let password = try write("123456\n", to: "hj212-password")
        chmod(password, 0o600)
        let hj212 = try String(contentsOfFile: Repo.path("Examples/hj212.json5"), encoding: .utf8)
        XCTAssertTrue(hj212.contains("/etc/vigil/hj212-password"))
        let checked = try runCommand(Repo.vigil, ["config", "check", try write(hj212.replacingOccurrences(of: "/etc/vigil/hj212-password", with: password), to: "hj212.json5")])
        XCTAssertEqual(checked.status, 0, checked.stderr)
        XCTAssertTrue((checked.stdout + checked.stderr).contains("device gas-1: device_id, fault_warning, alarm1, alarm2, warning, unit_code have no HJ 212 factor code"),
                      checked.stdout + checked.stderr)
        // The Debian package's /etc/vigil/vigil.json5 is valid and, unedited, polls nothing.
        let packaged = try runCommand(Repo.vigil, ["config", "check", Repo.path("packaging/deb/vigil.json5")])
        XCTAssertEqual(packaged.status, 0, packaged.stderr)
        XCTAssertTrue(packaged.stdout.contains("0 bus(es), 0 device(s), 0 point(s)"), packaged.stdout)
    }

    /// vigil(1) is written from the commands themselves: every command `vigil help` lists
    /// has its section, and the page is plain ASCII roff (groff's default input).
    func testTheManualPageCoversEveryCommand() throws {
        let help = try runCommand(Repo.vigil, ["help"]).stdout
        let man = try runCommand(Repo.vigil, ["help", "--man"])
        XCTAssertEqual(man.status, 0)
        XCTAssertTrue(man.stdout.hasPrefix(".TH VIGIL 1 "), man.stdout)
        let listed = help.split(separator: "\n").compactMap { line -> String? in
            // The name column is 14 wide: "  alarm ack     acknowledge …"
            guard line.hasPrefix("  "), !line.hasPrefix("  help") else { return nil }
            return line.dropFirst(2).prefix(14).trimmingCharacters(in: .whitespaces)
        }
        XCTAssertGreaterThan(listed.count, 15)
        for command in listed {
            XCTAssertTrue(man.stdout.contains(".SS \"vigil \(command)\"\n"), "no section for vigil \(command)")
        }
        XCTAssertTrue(man.stdout.allSatisfy(\.isASCII), "non-ASCII in the page")
        for line in man.stdout.split(separator: "\n") where line.hasPrefix(".") || line.hasPrefix("'") {
            XCTAssertTrue(["TH", "SH", "SS", "B", "I", "RI", "RB", "BR", "br", "PP", "nf", "fi", "RS", "RE", "sp", "TP"]
                .contains(String(line.dropFirst().prefix { $0 != " " })), "not a macro the page uses: \(line)")
        }
    }

    func testSyntaxErrorPointsAtLineAndColumn() throws {
        let path = try write("{\n  gateway: { id: 'gw' }\n  buses: []\n}", to: "broken.json5")
        let r = try runCommand(Repo.vigil, ["config", "check", path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("\(path):3:3: expected ',' or '}'"), r.stderr)
    }

    func testRunEmitsJSONLinesAndStopsCleanlyOnSIGTERM() throws {
        let port = freeTCPPort()
        let server = try startPymodbus(tcpPort: port, registers: ["holding": ["0": [0x41BB, 0x0000, 12]]])
        defer { server.stop() }
        let config = try write("""
            { gateway: { id: 'gw-test', state_dir: '\(temporaryDirectory())' },
              buses: [{ id: 'b', kind: 'tcp', host: '127.0.0.1', port: \(port) }],
              devices: [{ id: 'd1', bus: 'b', unit: 1, interval_ms: 100, points: [
                { id: 'gas', register: 40001, type: 'float32', unit: '%LEL' }, { id: 'n', register: 40003 } ] }],
              uplink: { kind: 'stdout' } }
            """, to: "run.json5")
        let agent = try PeerProcess(Repo.vigil, ["run", "--config", config])
        XCTAssertTrue(eventually { agent.stdout.split(separator: "\n").count >= 9 }, agent.stderr)
        agent.signal(SIGTERM)
        XCTAssertTrue(eventually { !agent.process.isRunning })
        XCTAssertEqual(agent.stop(), 0)
        let objects = try agent.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(objects.map { $0["seq"] as! Int }.sorted(), Array(1...objects.count), "seqs from 1 with no gap and no repeat")
        XCTAssertEqual(objects[0]["event"] as? String, "device_online", "events go first")
        XCTAssertEqual(objects[0]["seq"] as? Int, 1)
        let gas = objects.first { $0["point"] as? String == "gas" }!
        XCTAssertEqual(gas["value"] as? Double, 23.375)
        XCTAssertEqual(gas["raw"] as? String, "41bb 0000")
        XCTAssertEqual(gas["unit"] as? String, "%LEL")
        XCTAssertEqual(gas["quality"] as? String, "good")
        XCTAssertEqual(gas["device"] as? String, "d1")
        XCTAssertNotNil(gas["clock_synced"] as? Bool)
        XCTAssertTrue((gas["ts"] as! String).hasSuffix("Z"))
        XCTAssertEqual(objects.first { $0["point"] as? String == "n" }?["value"] as? Int, 12)
    }

    func testRunWithABadConfigStartsNothingAndExits2() throws {
        let path = try write("{ gateway: { id: 'gw' }, buses: [], devices: [{ id: 'd', bus: 'x', unit: 1, points: [] }] }", to: "bad.json5")
        let r = try runCommand(Repo.vigil, ["run", "--config", path, "--duration", "1"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("nothing was started"), r.stderr)
        XCTAssertEqual(r.stdout, "")
    }

    func testAnHTTPUplinkWithoutLibcurlIsAClearErrorAndAStdoutOneNeedsNone() throws {
        let dir = temporaryDirectory()
        let http = try write("""
            { gateway: { id: 'gw', state_dir: '\(dir)/http' }, buses: [], devices: [],
              uplink: { kind: 'http', url: 'http://127.0.0.1:9/' }, control: { socket: '\(dir)/http.sock' } }
            """, to: "http.json5")
        let missing = ["VIGIL_LIBCURL": "\(dir)/no-such-libcurl.so"]
        let r = try runCommand(Repo.vigil, ["run", "--config", http, "--duration", "1"], environment: missing)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("cannot load libcurl") && r.stderr.contains("no-such-libcurl.so"), r.stderr)
        // libcurl is loaded for an HTTP uplink only: with stdout the agent runs without it.
        let stdout = try write("""
            { gateway: { id: 'gw', state_dir: '\(dir)/stdout' }, buses: [], devices: [], control: { socket: '\(dir)/stdout.sock' } }
            """, to: "stdout.json5")
        let s = try runCommand(Repo.vigil, ["run", "--config", stdout, "--duration", "1"], environment: missing)
        XCTAssertEqual(s.status, 0, s.stderr)
    }

    func testDemoDeliversEverythingThroughAnOutage() throws {
        let r = try runCommand(Repo.vigil, ["demo", "--duration", "6", "--outage", "2"], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        for needle in ["device_online gas-1", "device_online level-1", "device_online smoke-1", "%LEL", "*** uplink cut", "*** uplink back"] {
            XCTAssertTrue(r.stdout.contains(needle), "\(needle) missing from:\n\(r.stdout)")
        }
        let summary = r.stdout.split(separator: "\n").last { $0.hasPrefix("vigil demo: readings and events accepted") }
        XCTAssertNotNil(summary, r.stdout)
        XCTAssertTrue(summary?.hasSuffix(", lost 0") ?? false, String(summary ?? ""))
        // During the outage the backlog grew; by the end everything accepted was
        // delivered (when, within the run, depends on the retry's jitter).
        let waiting = r.stdout.split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: "waiting in the journal ") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        XCTAssertGreaterThan(waiting.max() ?? 0, 0)
        let counts = (summary ?? "").split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }
        XCTAssertEqual(counts.count, 3, String(summary ?? ""))
        XCTAssertEqual(counts.first, counts.dropFirst().first, "accepted = delivered: \(summary ?? "")")
    }

    func testSimulateOnAPortInUseFailsCleanly() throws {
        let port = freeTCPPort()
        let first = try PeerProcess(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(port)", "--device", "1:honeywell-xnx"])
        XCTAssertTrue(first.waitFor("serving"))
        defer { first.stop() }
        let second = try runCommand(Repo.vigil, ["simulate", "--tcp", "127.0.0.1:\(port)", "--device", "1:honeywell-xnx"])
        XCTAssertEqual(second.status, 1, "an error exit, not a crash: \(second.stderr)")
        XCTAssertTrue(second.stderr.contains("vigil simulate: "), second.stderr)
        XCTAssertTrue(second.stderr.contains("127.0.0.1:\(port)"), second.stderr)
    }

    func testBashCompletionOffersCommandsOptionsAndProfiles() throws {
        let script = """
            source '\(Repo.path("completions/vigil.bash"))'
            export PATH='\(directoryOf(Repo.vigil))':$PATH
            complete_line() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _vigil; echo "${COMPREPLY[*]}"; }
            complete_line vigil di
            complete_line vigil diag sc
            complete_line vigil diag read --order c
            complete_line vigil profile show qdy
            complete_line vigil profile t
            complete_line vigil config t
            """
        let r = try runCommand("/bin/bash", ["-c", script])
        XCTAssertEqual(r.stdout.split(separator: "\n"), ["diag", "scan", "cdab", "qdy30a-level", "tsl", "tsl"], r.stderr)
    }

    /// The thing model an installer imports into Alibaba's console: from a profile (a
    /// sub-device product) or from the config (the gateway's product, with its ProductKey).
    func testTheAlibabaThingModelFromAProfileAndFromTheConfig() throws {
        let profile = try runCommand(Repo.vigil, ["profile", "tsl", "qdy30a-level", "--product-key", "k9xYz"])
        XCTAssertEqual(profile.status, 0, profile.stderr)
        let model = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(profile.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((model["profile"] as? [String: String])?["productKey"], "k9xYz")
        let properties = try XCTUnwrap(model["properties"] as? [[String: Any]])
        XCTAssertEqual(properties.map { $0["identifier"] as? String }, ["unit_code", "decimals", "level"])
        XCTAssertEqual(Set(properties.map { $0["accessMode"] as? String }), ["r"])
        XCTAssertEqual((model["events"] as? [[String: Any]])?.compactMap { $0["identifier"] as? String }, ["post", "alarm", "device_state"])

        let dir = temporaryDirectory()
        try "s3cr3t".write(toFile: "\(dir)/secret", atomically: true, encoding: .utf8)
        chmod("\(dir)/secret", 0o600)
        let config = try write(String(contentsOfFile: Repo.path("Examples/alink.json5"), encoding: .utf8)
            .replacingOccurrences(of: "/etc/vigil/alink-secret", with: "\(dir)/secret"), to: "vigil.json5")
        let gateway = try runCommand(Repo.vigil, ["config", "tsl", config])
        XCTAssertEqual(gateway.status, 0, gateway.stderr)
        let gatewayModel = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(gateway.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((gatewayModel["profile"] as? [String: String])?["productKey"], "a1B2c3D4e5F", "the uplink's product_key")
        let identifiers = (gatewayModel["properties"] as? [[String: Any]] ?? []).compactMap { $0["identifier"] as? String }
        XCTAssertTrue(identifiers.contains("gas_1_gas") && identifiers.contains("level_1_level"), "\(identifiers)")

        let unknown = try runCommand(Repo.vigil, ["profile", "tsl", "qdy30"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("did you mean \"qdy30a-level\""), unknown.stderr)
    }

    func testATokenInTheURLIsNeverLoggedAndPlainHTTPIsWarned() throws {
        let dir = temporaryDirectory()
        try "t0ken\n".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        chmod("\(dir)/token", 0o600)
        let config = try write("""
            { gateway: { id: 'gw', state_dir: '\(dir)/state' }, buses: [], devices: [],
              uplink: { kind: 'http', url: 'http://192.0.2.1:9/api/v1/A1B2C3/telemetry?access_token=zz9', token_file: '\(dir)/token', timeout_ms: 300, flush_ms: 100 } }
            """, to: "vigil.json5")
        let agent = try PeerProcess(Repo.vigil, ["run", "--config", config, "--duration", "2"])
        XCTAssertTrue(eventually(timeout: 15) { !agent.process.isRunning })
        agent.stop()
        XCTAssertTrue(agent.stderr.contains("the token is sent over plain http"), agent.stderr)
        XCTAssertTrue(agent.stderr.contains("/api/v1/<redacted>/telemetry?access_token=<redacted>"), agent.stderr)
        XCTAssertFalse(agent.stderr.contains("zz9") || agent.stderr.contains("A1B2C3"), agent.stderr)
    }

    func testAUsageErrorIsOneLineAndAHint() throws {
        let r = try runCommand(Repo.vigil, ["simulate", "--tcp", "nowhere"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "vigil simulate: --tcp nowhere: expected HOST:PORT\nSee 'vigil help simulate'.\n")
        XCTAssertEqual(r.stdout, "", "not the whole help")
        XCTAssertEqual(try runCommand(Repo.vigil, ["help", "run"]).status, 0)
    }

    func testDidYouMeanForCommandsOptionsAndValues() throws {
        let cases: [([String], String)] = [
            (["stauts"], "vigil: no command 'stauts'; did you mean 'status'?\nSee 'vigil help'.\n"),
            (["frobnicate"], "vigil: no command 'frobnicate'\nSee 'vigil help'.\n"),
            (["diag", "raed"], "vigil: no command 'diag raed'; did you mean 'vigil diag read'?\nSee 'vigil help diag'.\n"),
            (["diag", "read", "--tcp", "127.0.0.1:1", "--address", "0", "--type", "float"],
             "vigil diag read: --type: 'float' is not one of bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, string; did you mean float32?\nSee 'vigil help diag read'.\n"),
            (["diag", "read", "--tcp", "127.0.0.1:1", "--register", "40001", "--adress", "0"],
             "vigil diag read: unknown option '--adress'; did you mean --address?\nSee 'vigil help diag read'.\n"),
            (["diag", "read", "--tcp", "127.0.0.1:1", "--address", "0", "--order", "CDAB"],
             "vigil diag read: --order: 'CDAB' is not one of abcd, cdab, badc, dcba; did you mean cdab?\nSee 'vigil help diag read'.\n"),
            (["run", "--log-level", "dbug"], "vigil run: --log-level: 'dbug' is not one of error, warning, info, debug; did you mean debug?\nSee 'vigil help run'.\n"),
            (["status", "--jsn"], "vigil status: unknown option '--jsn'; did you mean --json?\nSee 'vigil help status'.\n"),
        ]
        for (arguments, expected) in cases {
            let r = try runCommand(Repo.vigil, arguments)
            XCTAssertEqual(r.status, 2, "\(arguments)")
            XCTAssertEqual(r.stderr, expected, "\(arguments)")
        }
    }

    func testUnknownShortOptionsAreErrorsNotWords() throws {
        for arguments in [["status", "-x"], ["diag", "watch", "-x", "level-1"], ["values", "-q"]] {
            let r = try runCommand(Repo.vigil, arguments)
            XCTAssertEqual(r.status, 2, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("vigil \(arguments[0...].prefix { !$0.hasPrefix("-") }.joined(separator: " ")): unknown option '-"), r.stderr)
        }
        XCTAssertEqual(try runCommand(Repo.vigil, ["status", "-h"]).status, 0, "-h is help")
    }

    func testEveryGroupHasHelp() throws {
        for group in ["config", "diag", "alarm", "uplink"] {
            for arguments in [["help", group], [group]] {
                let r = try runCommand(Repo.vigil, arguments)
                XCTAssertEqual(r.status, 0, "\(arguments): \(r.stderr)")
                XCTAssertTrue(r.stdout.hasPrefix("vigil \(group) — one of:"), "\(arguments): \(r.stdout)")
                XCTAssertTrue(r.stdout.contains("vigil \(group) "), r.stdout)
            }
        }
        XCTAssertTrue(try runCommand(Repo.vigil, ["config"]).stdout.contains("vigil config check"))
        XCTAssertTrue(try runCommand(Repo.vigil, ["diag"]).stdout.contains("vigil diag watch"))
        for command in ["queue", "gpio", "board", "profile", "alarms", "status"] {
            let r = try runCommand(Repo.vigil, ["help", command])
            XCTAssertEqual(r.status, 0, command)
            XCTAssertTrue(r.stdout.hasPrefix("vigil \(command)"), r.stdout)
        }
    }
}

private func directoryOf(_ path: String) -> String { (path as NSString).deletingLastPathComponent }

import Foundation
import XCTest

/// A mosquitto broker of the test's own on a free loopback port, with a
/// persistent store (a restart keeps queued messages), optionally with
/// password authentication and a TLS listener.
public final class TestBroker: @unchecked Sendable {
    public let port: Int
    public let directory: String
    private let executable: String
    private var configLines: [String]
    public private(set) var process: PeerProcess?

    public struct TLSFiles {
        public var ca, cert, key: String
        public init(ca: String, cert: String, key: String) { self.ca = ca; self.cert = cert; self.key = key }
    }

    public init(in dir: String, passwords: [String: String]? = nil, tls: TLSFiles? = nil, extraConfig: [String] = []) throws {
        executable = try requirePeer("mosquitto", at: "/usr/sbin/mosquitto")
        self.port = freeTCPPort()
        directory = "\(dir)/broker"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // As the test's own user: as root, mosquitto would drop to "mosquitto", which cannot read the test's files.
        configLines = ["user \(NSUserName())", "listener \(self.port) 127.0.0.1", "persistence true", "persistence_location \(directory)/",
                       "log_dest stderr", "log_type error", "log_type warning", "log_type notice"]
        if let passwords {
            let tool = try requirePeer("mosquitto_passwd", at: "/usr/bin/mosquitto_passwd")
            let file = "\(directory)/passwords"
            FileManager.default.createFile(atPath: file, contents: nil)
            for (user, password) in passwords {
                let result = try runCommand(tool, ["-b", file, user, password])
                guard result.status == 0 else { throw MissingPeer(description: "mosquitto_passwd: \(result.stderr)") }
            }
            configLines += ["allow_anonymous false", "password_file \(file)"]
        } else {
            configLines += ["allow_anonymous true"]
        }
        configLines += extraConfig
        if let tls { configLines += ["cafile \(tls.ca)", "certfile \(tls.cert)", "keyfile \(tls.key)"] }
        try configLines.joined(separator: "\n").appending("\n").write(toFile: "\(directory)/mosquitto.conf", atomically: true, encoding: .utf8)
        try start()
    }

    public func start() throws {
        let peer = try PeerProcess(executable, ["-c", "\(directory)/mosquitto.conf"])
        guard eventually(timeout: 10, { canConnect(port) || !peer.process.isRunning }), peer.process.isRunning else {
            peer.stop()
            throw MissingPeer(description: "mosquitto did not start: \(peer.stderr)")
        }
        process = peer
    }

    /// Publishes one message at QoS 1 with paho-mqtt (a platform sending a command).
    public func publish(topic: String, payload: String) throws {
        let python = try requirePaho()
        let script = "import sys, paho.mqtt.publish as p; p.single(sys.argv[1], sys.argv[2], qos=1, hostname='127.0.0.1', port=int(sys.argv[3]))"
        let result = try runCommand(python, ["-c", script, topic, payload, String(port)])
        guard result.status == 0 else { throw MissingPeer(description: "paho publish to \(topic) failed: \(result.stderr)") }
    }

    /// An orderly stop (SIGTERM: the broker saves its store).
    public func stop() { process?.stop(); process = nil }

    deinit { stop() }
}

/// Whether something accepts TCP connections on the loopback port.
public func canConnect(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
}

/// paho-mqtt in the repo's virtual environment.
public func requirePaho() throws -> String {
    let python = try requirePeer("python (.venv)", at: Repo.python)
    if try runCommand(python, ["-c", "import paho.mqtt.client"]).status != 0 {
        let message = "paho-mqtt is not installed in .venv (run `make deps`)"
        if ProcessInfo.processInfo.environment["CI"] == "true" { throw MissingPeer(description: message) }
        throw XCTSkip(message)
    }
    return python
}

/// A paho-mqtt subscriber (Tests/Peers/mqtt_subscriber.py): what reached the broker.
public final class TestSubscriber: @unchecked Sendable {
    public let peer: PeerProcess

    public struct Message {
        public var topic: String
        public var retain: Bool
        public var payload: String
        public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] }
    }

    /// `answerSessionLimits`: plays ThingsBoard to thingsboard-gateway, which sends nothing before its getSessionLimits RPC is answered.
    /// `alinkCodeFile`, `onenetCodeFile`: plays Alibaba Cloud IoT or OneNET, answering each post with the code the file holds (none while it is empty).
    public init(port: Int, topic: String, clientID: String = "vigil-test-judge", username: String? = nil, password: String? = nil,
                answerSessionLimits: Bool = false, alinkCodeFile: String? = nil, onenetCodeFile: String? = nil) throws {
        let python = try requirePaho()
        var args = [Repo.peerScript("mqtt_subscriber.py"), "--port", String(port), "--topic", topic, "--client-id", clientID]
        if answerSessionLimits { args.append("--answer-session-limits") }
        if let alinkCodeFile { args += ["--alink-code-file", alinkCodeFile] }
        if let onenetCodeFile { args += ["--onenet-code-file", onenetCodeFile] }
        if let username, let password { args += ["--username", username, "--password", password] }
        peer = try PeerProcess(python, args)
        guard peer.waitFor("subscribed") else {
            peer.stop()
            throw MissingPeer(description: "the paho-mqtt subscriber did not subscribe: \(peer.stderr)")
        }
    }

    public var messages: [Message] {
        peer.stdout.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let topic = o["topic"] as? String else { return nil }
            return Message(topic: topic, retain: o["retain"] as? Bool ?? false, payload: o["payload"] as? String ?? "")
        }
    }

    /// Every record of the vigil-format batches received, by topic leaf, in arrival order.
    public func records(lane: String) -> [[String: Any]] {
        messages.filter { $0.topic.hasSuffix("/\(lane)") }.flatMap { m -> [[String: Any]] in
            guard let batch = m.json else { return [] }
            return (batch["readings"] as? [[String: Any]] ?? []) + (batch["events"] as? [[String: Any]] ?? [])
        }
    }

    public func stop() { peer.stop() }
}

/// A self-signed certificate for 127.0.0.1 (openssl), valid from now: both the
/// server's certificate and the CA a client is told to trust.
public func makeSelfSignedCertificate(in dir: String) throws -> (cert: String, key: String) {
    let openssl = try requirePeer("openssl")
    let cert = "\(dir)/cert.pem", key = "\(dir)/key.pem"
    let r = try runCommand(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                                     "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
    guard r.status == 0 else { throw MissingPeer(description: "openssl req: \(r.stderr)") }
    return (cert, key)
}

/// A Sparkplug B judge (Tests/Peers/sparkplug_subscriber.py): every message
/// on spBv1.0/# decoded by pysparkplug, in arrival order.
public final class SparkplugJudge: @unchecked Sendable {
    public let peer: PeerProcess

    /// `rebirth`: "GROUP/EDGE": asks that edge node for a Rebirth (NCMD) after its first NBIRTH.
    public init(port: Int, rebirth: String? = nil) throws {
        let python = try requirePaho()
        if try runCommand(python, ["-c", "import pysparkplug"]).status != 0 {
            let message = "pysparkplug is not installed in .venv (run `make deps`)"
            if ProcessInfo.processInfo.environment["CI"] == "true" { throw MissingPeer(description: message) }
            throw XCTSkip(message)
        }
        peer = try PeerProcess(python, [Repo.peerScript("sparkplug_subscriber.py"), "--port", String(port)] + (rebirth.map { ["--rebirth", $0] } ?? []))
        guard peer.waitFor("subscribed") else {
            peer.stop()
            throw MissingPeer(description: "the Sparkplug judge did not subscribe: \(peer.stderr)")
        }
    }

    public var messages: [[String: Any]] {
        peer.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["topic"] != nil }
    }

    /// A host's command (Tests/Peers/sparkplug_command.py, encoded by pysparkplug).
    public func command(port: Int, topic: String, metric: String, datatype: String, value: String) throws {
        let result = try runCommand(try requirePaho(), [Repo.peerScript("sparkplug_command.py"), String(port), topic, metric, datatype, value])
        guard result.status == 0 else { throw MissingPeer(description: "sparkplug_command.py: \(result.stderr)") }
    }

    public func of(_ type: String, device: String? = nil) -> [[String: Any]] {
        messages.filter { $0["type"] as? String == type && (device == nil || $0["device"] as? String == device) }
    }

    public func stop() { peer.stop() }
}

extension Dictionary where Key == String, Value == Any {
    /// A decoded Sparkplug message's metric by name.
    public func metric(_ name: String) -> [String: Any]? {
        (self["metrics"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }
}

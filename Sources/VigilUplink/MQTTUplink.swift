import CMosquittoLoader
import Glibc
import Synchronization
import VigilCore
import VigilThreads

/// Publishes batches to an MQTT broker with libmosquitto. The commit point is
/// the broker's PUBACK: `send` returns `.delivered` only when every message of
/// the batch has its PUBACK without an error reason code. libmosquitto's
/// network loop runs on a thread of its own (never the concurrency pool),
/// which also reconnects with full-jitter backoff; the forwarder's thread
/// publishes and waits. A Last Will keeps the gateway's presence truthful.
public final class MQTTUplink: Uplink, CommandChannel, @unchecked Sendable {
    public let name: String
    public let spec: MQTTUplinkSpec
    private let format: any MessageFormat
    /// The client id of the current CONNECT (a computed login may change it between connections).
    private var clientID: String
    private let handle: OpaquePointer
    private let session = Monitor(Session())
    private var networkThread: DedicatedThread?
    private let passwordFile: SecretFile?
    /// format thingsboard: the access token, sent as the user name.
    private let tokenFile: SecretFile?
    /// False for a probe (`vigil uplink test`): no Will, no announcements, no commands, no offline on close — the gateway's presence is the forwarder's.
    private let announcesPresence: Bool
    /// A login computed for the platform before each connection (Alink's and IoTDA's signed
    /// client id and password), instead of username and password_file.
    private let makeLogin: (@Sendable () throws(MQTTLogin.Failure) -> MQTTLogin)?
    private var login: MQTTLogin?

    struct Session {
        /// A CONNACK with success came on the current connection.
        var connected = false
        var stopping = false
        var lastError: String?
        var authenticationRefused = false
        /// Reason codes of PUBACKs, by message id, for the publisher waiting on them.
        var acks: [Int32: Int32] = [:]
        /// The platform's own answers (`UplinkMessage.replyID`), by that id.
        var replies: [String: UplinkOutcome] = [:]
        /// Counts lost connections: a waiter whose connection is gone stops waiting.
        var connection = 0
        /// The last status the forwarder gave: what a reconnect announces.
        var lastStatus: GatewayStatus?
        /// Carries out commands from the platform; nil: they are answered "not ready".
        var commandHandler: (@Sendable (RemoteCommand) -> Void)?
    }

    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(spec: MQTTUplinkSpec, gateway: String, format: any MessageFormat, announcesPresence: Bool = true,
                login makeLogin: (@Sendable () throws(MQTTLogin.Failure) -> MQTTLogin)? = nil) throws(SetupError) {
        self.announcesPresence = announcesPresence
        self.makeLogin = makeLogin
        do { login = try makeLogin?() } catch { throw SetupError(description: "uplink: \(error)") }
        if let error = CMosquitto_load() { throw SetupError(description: "uplink: cannot load libmosquitto: \(String(cString: error))") }
        self.spec = spec
        self.format = format
        self.clientID = login?.clientID ?? spec.clientID ?? gateway
        self.name = redactedURL(spec.url)
        do { passwordFile = try spec.passwordFile.map { path throws(SecretFile.Failure) in try SecretFile(path: path) } } catch {
            throw SetupError(description: "uplink.password_file: \(error)")
        }
        do { tokenFile = try spec.tokenFile.map { path throws(SecretFile.Failure) in try SecretFile(path: path) } } catch {
            throw SetupError(description: "uplink.token_file: \(error)")
        }
        // A persistent session: MQTT 5 keeps it for session_expiry_s; 3.1.1 by clean_session false.
        let persistent = spec.sessionExpirySeconds > 0
        guard let h = CMosquitto_new(clientID, !persistent, nil) else { throw SetupError(description: "mosquitto_new failed") }
        handle = h
        try applySettings(persistent: persistent)
        let thread = DedicatedThread(name: "mqtt") { [self] in runNetwork(persistent: persistent) }
        networkThread = thread
        thread.start()
    }

    /// False when the network thread was stuck at close (a CONNECT to an unreachable host): the handle is then left to it.
    private var networkThreadEnded = true

    deinit {
        close()
        if networkThreadEnded { CMosquitto_destroy(handle) }
    }

    private func check(_ rc: Int32, _ what: String) throws(SetupError) {
        if rc != MOSQ_ERR_SUCCESS.rawValue { throw SetupError(description: "uplink: \(what): \(Self.describe(rc))") }
    }

    /// Options, credentials, TLS and callbacks: at start, and again after a new client id.
    private func applySettings(persistent: Bool) throws(SetupError) {
        // Callbacks find this uplink through the handle's user data; the uplink outlives the handle's loop.
        let me = Unmanaged.passUnretained(self).toOpaque()
        CMosquitto_user_data_set(handle, me)
        try check(CMosquitto_threaded_set(handle, true), "threaded mode")
        try check(CMosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, spec.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311), "protocol")
        try check(CMosquitto_int_option(handle, MOSQ_OPT_SEND_MAXIMUM, Int32(spec.inflight)), "inflight")
        // Small messages back to back (Sparkplug's DDATA, then the QoS 1 that closes the batch): without
        // TCP_NODELAY, Nagle holds the last one until the broker's delayed ACK, 40 ms a batch.
        try check(CMosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY")
        try check(applyCredentials(), "username")
        if spec.tls {
            // No ca_file: the system's trust store (Debian's ca-certificates).
            if spec.caFile == nil { try check(CMosquitto_int_option(handle, MOSQ_OPT_TLS_USE_OS_CERTS, 1), "system CA certificates") }
            try check(CMosquitto_tls_set(handle, spec.caFile, spec.caFile == nil ? "/etc/ssl/certs" : nil, spec.clientCert, spec.clientKey), "TLS files")
            // insecure: neither the chain nor the host name is checked (a lab only; warned at every start).
            try check(CMosquitto_tls_opts_set(handle, !spec.insecure), "TLS verification")
            try check(CMosquitto_tls_insecure_set(handle, spec.insecure), "TLS host name check")
        }
        CMosquitto_connect_v5_callback_set(handle) { _, user, rc, _, _ in MQTTUplink.from(user)?.connected(rc: rc) }
        CMosquitto_disconnect_v5_callback_set(handle) { _, user, rc, _ in MQTTUplink.from(user)?.disconnected(rc: rc) }
        CMosquitto_publish_v5_callback_set(handle) { _, user, mid, reason, _ in MQTTUplink.from(user)?.acknowledged(mid: mid, reason: reason) }
        CMosquitto_message_v5_callback_set(handle) { _, user, message, _ in
            guard let message = message?.pointee, let topic = message.topic else { return }
            let payload = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(message.payloadlen))) } ?? []
            MQTTUplink.from(user)?.received(topic: String(cString: topic), payload: payload)
        }
    }

    /// A computed login, fresh for this connection (IoTDA checks its hour); a new client id
    /// needs the handle reinitialised. Runs on the network thread, between connections.
    private func refreshLogin(persistent: Bool) {
        guard let makeLogin else { return }
        do {
            let next = try makeLogin()
            if next.clientID != clientID {
                clientID = next.clientID
                login = next
                let rc = CMosquitto_reinitialise(handle, clientID, !persistent, nil)
                if rc != MOSQ_ERR_SUCCESS.rawValue { throw MQTTLogin.Failure(description: "cannot take the new client id: \(Self.describe(rc))") }
                try applySettings(persistent: persistent)
            } else if next != login {
                login = next
                _ = applyCredentials()
            }
        } catch {
            session.update { $0.lastError = "uplink login: \(error)" }
        }
    }

    /// The broker accepted the current connection (CONNACK success).
    public var isConnected: Bool { session.read { $0.connected } }

    /// Why the last connection attempt or connection failed, nil while connected.
    public var lastError: String? { session.read { $0.lastError } }

    /// Waits for a CONNACK with success (or a refusal, or the timeout); true when connected.
    public func waitUntilConnected(timeoutMs: Int) -> Bool {
        session.wait(until: { $0.connected || $0.lastError != nil }, deadlineNanos: monotonicNanos() + Int64(timeoutMs) * 1_000_000) { $0.connected }
    }

    /// The gateway device's token as user name (ThingsBoard), or the user name and password.
    private func applyCredentials() -> Int32 {
        if let login { return CMosquitto_username_pw_set(handle, login.username, login.password) }
        if let token = tokenFile { return CMosquitto_username_pw_set(handle, token.current, nil) }
        guard let username = spec.username else { return MOSQ_ERR_SUCCESS.rawValue }
        return CMosquitto_username_pw_set(handle, username, passwordFile?.current)
    }

    /// Where commands from the platform (RPC) go; they arrive on the network thread, so the handler only queues them.
    public var batchesCarryStatus: Bool { format.batchesCarryStatus }

    public var carriesCommands: Bool { announcesPresence && !format.commandTopics.isEmpty }

    public func acceptCommands(_ handler: @escaping @Sendable (RemoteCommand) -> Void) {
        session.update { $0.commandHandler = handler }
    }

    /// Answers a command (QoS 1, not waited for: the platform times out a lost answer on its own).
    public func reply(to command: RemoteCommand, _ result: RemoteCommandResult) {
        guard let message = format.reply(to: command, result), isConnected else { return }
        _ = publish(message)
    }

    private static func from(_ user: UnsafeMutableRawPointer?) -> MQTTUplink? {
        user.map { Unmanaged<MQTTUplink>.fromOpaque($0).takeUnretainedValue() }
    }

    static func describe(_ rc: Int32) -> String {
        rc == MOSQ_ERR_ERRNO.rawValue ? String(cString: strerror(errno)) : String(cString: CMosquitto_strerror(rc))
    }

    // MARK: The network thread

    /// Connects, runs libmosquitto's loop, and after a lost or refused
    /// connection waits a full-jitter backoff (1 s to 5 min) before the next try.
    private func runNetwork(persistent: Bool) {
        var backoff = RetryBackoff()
        var properties: OpaquePointer? = nil
        if spec.protocolVersion == .v5 && persistent {
            _ = CMosquitto_property_add_int32(&properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), UInt32(spec.sessionExpirySeconds))
        }
        defer { CMosquitto_property_free_all(&properties) }
        while !session.read({ $0.stopping }) {
            if passwordFile?.changed() == true || tokenFile?.changed() == true { _ = applyCredentials() }
            refreshLogin(persistent: persistent)
            if announcesPresence {
                // The Will is written into each CONNECT: Sparkplug's carries this connection's bdSeq.
                format.nextConnection()
                if let will = format.presence(online: false, status: nil, sentAt: WallTime.now(kernelSynchronised: true)) {
                    let rc = will.payload.withUnsafeBytes { CMosquitto_will_set_v5(handle, will.topic, Int32($0.count), $0.baseAddress, 1, will.retain, nil) }
                    if rc != MOSQ_ERR_SUCCESS.rawValue { session.update { $0.lastError = "cannot set the last will: \(Self.describe(rc))" } }
                }
            }
            let rc = CMosquitto_connect_bind_v5(handle, spec.host, Int32(spec.port), Int32(spec.keepaliveSeconds), properties)
            if rc == MOSQ_ERR_SUCCESS.rawValue {
                var loop = MOSQ_ERR_SUCCESS.rawValue
                while loop == MOSQ_ERR_SUCCESS.rawValue, !session.read({ $0.stopping }) {
                    loop = CMosquitto_loop(handle, 200, 1)
                }
                let wasConnected = session.update { s -> Bool in
                    defer { s.connected = false; s.connection += 1 }
                    // A refused CONNACK already said why; anything else is a lost connection.
                    if loop != MOSQ_ERR_SUCCESS.rawValue, !s.stopping, s.connected || s.lastError == nil {
                        s.lastError = "connection to \(spec.host):\(spec.port) lost: \(Self.describe(loop))"
                    }
                    return s.connected
                }
                if wasConnected { backoff.reset() }
                if session.read({ $0.stopping }) { return }
            } else {
                let reason = Self.describe(rc)
                session.update { s in s.lastError = "cannot connect to \(spec.host):\(spec.port): \(reason)"; s.authenticationRefused = false }
            }
            let delay = backoff.next(serverAskedMs: nil)
            let until = monotonicNanos() + delay
            session.wait(until: { $0.stopping }, deadlineNanos: until) { _ in }
        }
    }

    private func connected(rc: Int32) {
        if rc == 0 {
            // Before any batch: the platform's answers are the commit point. (The broker takes the
            // SUBSCRIBE before the PUBLISHes that follow it on this connection.)
            for topic in format.replyTopics { _ = CMosquitto_subscribe_v5(handle, nil, topic, 1, 0, nil) }
            // Births and presence go before any batch: the forwarder sees the connection only after them.
            if announcesPresence {
                // Subscribed first: a platform that answers a birth with a command (a Rebirth) is heard.
                for topic in format.commandTopics { _ = CMosquitto_subscribe_v5(handle, nil, topic, 1, 0, nil) }
                let status = session.read { $0.lastStatus }
                announce(status: status)
                // Presence (retained in format vigil): the Will's "offline" is replaced.
                if let online = format.presence(online: true, status: status, sentAt: WallTime.now(kernelSynchronised: true)) { _ = publish(online) }
            }
            session.update { s in s.connected = true; s.lastError = nil; s.authenticationRefused = false }
            return
        }
        let text = spec.protocolVersion == .v5 ? String(cString: CMosquitto_reason_string(rc)) : String(cString: CMosquitto_connack_string(rc))
        let auth = MQTTReason.isAuthenticationRefusal(connack: Int(rc), version: spec.protocolVersion)
        session.update { s in
            s.authenticationRefused = auth
            s.lastError = auth ? "authentication refused by the broker: \(text) (\(rc))" : "broker refused the connection: \(text) (\(rc))"
        }
    }

    private func disconnected(rc: Int32) {
        session.update { s in
            s.connected = false
            s.connection += 1
            if rc != 0, !s.stopping, s.lastError == nil { s.lastError = "disconnected by the broker: \(Self.describe(rc))" }
        }
    }

    private func acknowledged(mid: Int32, reason: Int32) {
        session.update { $0.acks[mid] = reason }
        quickAck()
    }

    private let wireBytes = Atomic<UInt64>(0)
    public var bytesOnTheWire: UInt64 { wireBytes.load(ordering: .relaxed) }

    /// What the platform needs before data (ThingsBoard connects, Sparkplug births).
    private func announce(status: GatewayStatus?) {
        for message in format.announcements(status: status) { _ = publish(message) }
    }

    private func received(topic: String, payload: [UInt8]) {
        wireBytes.add(UInt64(MQTTPacketSize.publish(topic: topic, payload: payload.count, qos: 1, v5: spec.protocolVersion == .v5)), ordering: .relaxed)
        if let reply = format.platformReply(topic: topic, payload: payload) {
            session.update { $0.replies[reply.id] = reply.outcome }
            for message in reply.followUp { _ = publish(message) }
            return
        }
        for command in format.commands(topic: topic, payload: payload) {
            if command.action == .announceAgain {
                announce(status: session.read { $0.lastStatus })
                continue
            }
            guard let handler = session.read({ $0.commandHandler }) else {
                reply(to: command, .failure("the gateway is starting; try again"))
                continue
            }
            handler(command)
        }
    }

    // MARK: Publishing (the forwarder's thread)

    public func send(_ batch: UplinkBatch, status: GatewayStatus?) -> UplinkOutcome { send([batch], status: status) }

    /// Up to 8 batches before the first PUBACK, never more than `inflight` (messages
    /// awaiting a PUBACK): on a 300 ms cellular round trip, one at a time drains 500
    /// readings a round trip, under 2 000 a second, while an outage's backlog waits.
    public var batchesInFlight: Int { max(1, min(8, spec.inflight)) }

    public func send(_ batches: [UplinkBatch], status: GatewayStatus?) -> UplinkOutcome {
        if let status { session.update { $0.lastStatus = status } }
        if let notReady = notReady() { return notReady }
        let sentAt = WallTime.now(kernelSynchronised: true)
        return publishAndWait(batches.enumerated().flatMap { i, batch in format.messages(for: batch, sentAt: sentAt, status: i == 0 ? status : nil) })
    }

    public func sendHeartbeat(_ status: GatewayStatus) -> UplinkOutcome? {
        session.update { $0.lastStatus = status } // what a reconnect announces
        if let notReady = notReady() { return notReady }
        guard let online = format.presence(online: true, status: status, sentAt: WallTime.now(kernelSynchronised: true)) else { return nil }
        return publishAndWait([online])
    }

    /// Presence offline (retained) and a normal DISCONNECT, which tells the
    /// broker not to send the Will: the gateway said it itself.
    public func close() {
        guard let thread = networkThread else { return }
        if announcesPresence, session.read({ $0.connected }), let offline = format.presence(online: false, status: nil, sentAt: WallTime.now(kernelSynchronised: true)) {
            _ = publishAndWait([offline], timeoutMs: 2000)
        }
        if session.read({ $0.connected }) { _ = CMosquitto_disconnect_v5(handle, 0, nil) }
        session.update { $0.stopping = true }
        // A CONNECT to a host that does not answer blocks in the kernel for minutes: a stop does not wait for it.
        networkThreadEnded = thread.join(waitingAtMost: 3)
        networkThread = nil
    }

    private func publish(_ message: UplinkMessage) -> (mid: Int32, rc: Int32) {
        let payload = spec.gzip && !message.retain ? Gzip.compress(message.payload) : message.payload
        var mid: Int32 = 0
        let rc = payload.withUnsafeBytes { CMosquitto_publish_v5(handle, &mid, message.topic, Int32($0.count), $0.baseAddress, message.qos, message.retain, nil) }
        if rc == MOSQ_ERR_SUCCESS.rawValue {
            // With its PUBACK to come at QoS 1 (at QoS 0, libmosquitto's publish callback is no PUBACK).
            let size = MQTTPacketSize.publish(topic: message.topic, payload: payload.count, qos: message.qos, v5: spec.protocolVersion == .v5)
                + (message.qos > 0 ? MQTTPacketSize.puback : 0)
            wireBytes.add(UInt64(size), ordering: .relaxed)
        }
        return (mid, rc)
    }

    /// Why nothing can be published now (checked before a format builds messages: Sparkplug's seq must not skip).
    private func notReady() -> UplinkOutcome? {
        let (isConnected, refused, lastError) = session.read { ($0.connected, $0.authenticationRefused, $0.lastError) }
        guard isConnected else {
            let reason = lastError ?? "not connected to \(spec.host):\(spec.port) yet"
            return refused ? .unauthorized(reason: reason) : .retry(afterMs: nil, reason: reason)
        }
        return format.holdReason.map { .retry(afterMs: nil, reason: $0) }
    }

    /// Sends the ACK of the segment that brought a PUBACK now (setting TCP_QUICKACK
    /// flushes a delayed one). While the PUBACKs of a group of batches come back we
    /// have nothing to send for the ACK to ride on, so it would wait for the kernel's
    /// delayed-ACK timer (40 ms); and a broker without TCP_NODELAY (mosquitto's default)
    /// holds every further PUBACK until it comes: 40 ms a group.
    private func quickAck() {
        let fd = CMosquitto_socket(handle)
        guard fd >= 0 else { return }
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    private func publishAndWait(_ messages: [UplinkMessage], timeoutMs: Int? = nil) -> UplinkOutcome {
        let (isConnected, connection, lastError) = session.update { s in
            s.acks.removeAll() // PUBACKs of an abandoned batch: their ids are not ours
            s.replies.removeAll()
            return (s.connected, s.connection, s.lastError)
        }
        guard isConnected else { return .retry(afterMs: nil, reason: lastError ?? "connection to \(spec.host):\(spec.port) lost") }
        var mids: [Int32] = []
        var topics: [Int32: String] = [:]
        let replyIDs = messages.compactMap(\.replyID)
        for message in messages {
            let (mid, rc) = publish(message)
            if rc == MOSQ_ERR_OVERSIZE_PACKET.rawValue {
                return .tooLarge(reason: "message of \(message.payload.count) bytes is over the broker's maximum packet size")
            }
            if rc != MOSQ_ERR_SUCCESS.rawValue { return .retry(afterMs: nil, reason: "publish failed: \(Self.describe(rc))") }
            if message.qos > 0 { mids.append(mid); topics[mid] = message.topic } // QoS 0 has no PUBACK: a later QoS 1 message's stands for it
        }
        let deadline = monotonicNanos() + Int64(timeoutMs ?? spec.batching.timeoutMs) * 1_000_000
        let (codes, replies, lost) = session.wait(until: { s in
            s.connection != connection || (mids.allSatisfy { s.acks[$0] != nil } && replyIDs.allSatisfy { s.replies[$0] != nil })
        }, deadlineNanos: deadline) { s in
            (mids.compactMap { mid in s.acks[mid].map { (mid, $0) } }, replyIDs.compactMap { s.replies[$0] }, s.connection != connection)
        }
        if codes.count < mids.count {
            let missing = mids.count - codes.count
            return .retry(afterMs: nil, reason: lost ? "connection lost before the broker acknowledged \(missing) of \(mids.count) messages"
                                                    : "no PUBACK for \(missing) of \(mids.count) messages within \(timeoutMs ?? spec.batching.timeoutMs) ms")
        }
        for (mid, code) in codes where code >= 0x80 {
            return MQTTReason.publishOutcome(Int(code), name: String(cString: CMosquitto_reason_string(code)), topic: topics[mid] ?? "?")
        }
        // The platform's own answer, stronger than the broker's PUBACK: it says the data was taken.
        if replies.count < replyIDs.count {
            let missing = replyIDs.count - replies.count
            return .retry(afterMs: nil, reason: lost ? "connection lost before the platform answered \(missing) of \(replyIDs.count) messages"
                                                    : "no answer from the platform to \(missing) of \(replyIDs.count) messages within \(timeoutMs ?? spec.batching.timeoutMs) ms")
        }
        return replies.first { $0 != .delivered } ?? .delivered
    }
}

import CCurlLoader
import Glibc
import Synchronization
import VigilCore

/// POSTs batches to the upstream over HTTP(S) with libcurl, in the body its
/// format makes: gzip body, token, Idempotency-Key, TLS verification on unless
/// `insecure`. One curl handle, reused (keep-alive), used from the forwarder's thread only.
/// Batches go in version 2 of the body once the upstream asks for it (a 2xx with
/// `Vigil-Batch: 2`), and in version 1 again, at once, if it then refuses one.
public final class HTTPUplink: Uplink, @unchecked Sendable {
    public let name: String
    public let spec: HTTPUplinkSpec
    private let gateway: String
    private let token: SecretFile?
    private let handle: UnsafeMutableRawPointer
    private let format: any BodyFormat
    /// Where batches go (format influx: with `precision=ms`).
    private let url: String
    /// The upstream answered `Vigil-Batch: 2`: batches go in the format's version 2 body.
    /// Forgotten on a restart (the first batch asks again) and, for good, when a version 2 batch is refused.
    private var upstreamTakesVersion2 = false
    private var version2Refused = false

    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(spec: HTTPUplinkSpec, gateway: String, format: any BodyFormat = VigilBodyFormat(), url: String? = nil) throws(SetupError) {
        self.format = format
        self.url = url ?? spec.url
        if let error = CCurl_load() { throw SetupError(description: "uplink: cannot load libcurl: \(String(cString: error))") }
        self.spec = spec
        self.gateway = gateway
        self.name = redactedURL(spec.url)
        do { token = try spec.tokenFile.map { path throws(SecretFile.Failure) in try SecretFile(path: path) } } catch {
            throw SetupError(description: "uplink.token_file: \(error)")
        }
        guard let h = CCurl_easy_init() else { throw SetupError(description: "curl_easy_init failed") }
        handle = h
    }

    deinit { CCurl_easy_cleanup(handle) }

    public func send(_ batch: UplinkBatch, status: GatewayStatus?) -> UplinkOutcome {
        let sentAt = WallTime.now(kernelSynchronised: true)
        if upstreamTakesVersion2, let body = format.compactBody(for: batch, sentAt: sentAt, status: status) {
            // No Idempotency-Key: the body names the batch (its gateway and its records' seqs).
            let exchange = post(body, idempotencyKey: nil)
            guard let code = exchange.httpStatus, [400, 415, 422].contains(code) else { return exchange.outcome }
            // It asked for version 2 and refused one (a rollback behind the same URL): version 1, now and from now on.
            upstreamTakesVersion2 = false
            version2Refused = true
        }
        return post(format.body(for: batch, sentAt: sentAt, status: status), idempotencyKey: batch.id).outcome
    }

    /// Whether batches now go in version 2 of the body (the upstream asked for it).
    public var sendsVersion2: Bool { upstreamTakesVersion2 }

    public func sendHeartbeat(_ status: GatewayStatus) -> UplinkOutcome? {
        let now = WallTime.now(kernelSynchronised: true)
        guard let body = heartbeatBody(status, at: now) else { return nil }
        return post(body, idempotencyKey: "\(gateway)-heartbeat-\(now.milliseconds)").outcome
    }

    /// A heartbeat in this uplink's format (also what `vigil uplink test` sends).
    public func heartbeatBody(_ status: GatewayStatus, at time: WallTime) -> [UInt8]? {
        format.heartbeat(status, gateway: gateway, sentAt: time)
    }

    /// What one request did, for `vigil uplink test` as well as the forwarder.
    public struct Exchange: Sendable {
        public var outcome: UplinkOutcome
        public var httpStatus: Int?
        public var seconds: Double
        public var nameLookupSeconds: Double
        public var connectSeconds: Double
        public var tlsSeconds: Double
        public var error: String?
    }

    /// HTTP bytes both ways (request and response, headers and bodies, TLS handshakes),
    /// as curl reports them to its debug callback.
    private let wireBytes = Atomic<UInt64>(0)
    public var bytesOnTheWire: UInt64 { wireBytes.load(ordering: .relaxed) }

    /// Collects the response's body and its Retry-After and Vigil-Batch headers.
    private final class Response {
        var body: [UInt8] = []
        var retryAfter: String?
        var asksForVersion2 = false
    }

    /// `idempotencyKey` nil: the request has none (a version 2 batch names itself).
    public func post(_ plain: [UInt8], idempotencyKey: String?) -> Exchange {
        token?.changed()
        let body = spec.gzip ? Gzip.compress(plain) : plain
        var headers: UnsafeMutablePointer<curl_slist>?
        for header in ["Content-Type: \(format.contentType)", "Expect:", "Accept:"] + (idempotencyKey.map { ["Idempotency-Key: \($0)"] } ?? [])
            + (spec.gzip ? ["Content-Encoding: gzip"] : []) + (token.map { ["Authorization: \(format.authorizationScheme) \($0.current)"] } ?? []) {
            headers = CCurl_slist_append(headers, header)
        }
        defer { CCurl_slist_free_all(headers) }
        let response = Response()
        let box = Unmanaged.passRetained(response)
        defer { box.release() }

        CCurl_easy_reset(handle)
        _ = CCurl_setopt_string(handle, CURLOPT_URL, url)
        _ = CCurl_setopt_long(handle, CURLOPT_POST, 1)
        _ = CCurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1) // threads: no SIGALRM for timeouts
        _ = CCurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, spec.batching.timeoutMs)
        _ = CCurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(spec.batching.timeoutMs, 10_000))
        _ = CCurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        if let ca = spec.caFile { _ = CCurl_setopt_string(handle, CURLOPT_CAINFO, ca) }
        if let cert = spec.clientCert { _ = CCurl_setopt_string(handle, CURLOPT_SSLCERT, cert) }
        if let key = spec.clientKey { _ = CCurl_setopt_string(handle, CURLOPT_SSLKEY, key) }
        if spec.insecure {
            _ = CCurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
            _ = CCurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
        }
        _ = CCurl_setopt_pointer(handle, CURLOPT_WRITEDATA, box.toOpaque())
        _ = CCurl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            let response = Unmanaged<Response>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            if response.body.count < 4096, let data {
                response.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: min(n, 4096 - response.body.count)))
            }
            return n
        }
        _ = CCurl_setopt_pointer(handle, CURLOPT_HEADERDATA, box.toOpaque())
        _ = CCurl_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            let response = Unmanaged<Response>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            if let data {
                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
                let lowercased = line.lowercased()
                if lowercased.hasPrefix("retry-after:") { response.retryAfter = String(line.dropFirst(12)) }
                if lowercased.hasPrefix("vigil-batch:") { response.asksForVersion2 = trimmed(String(line.dropFirst(12))) == "2" }
            }
            return n
        }
        var exchanged: curl_off_t = 0
        let code: CURLcode = body.withUnsafeBytes { buffer in
            withUnsafeMutablePointer(to: &exchanged) { counter in
                _ = CCurl_count_bytes(handle, counter)
                _ = CCurl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
                _ = CCurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(buffer.count))
                return CCurl_easy_perform(handle)
            }
        }
        wireBytes.add(UInt64(max(0, exchanged)), ordering: .relaxed)
        var total = 0.0, lookup = 0.0, connect = 0.0, tls = 0.0
        _ = CCurl_getinfo_double(handle, CURLINFO_TOTAL_TIME, &total)
        _ = CCurl_getinfo_double(handle, CURLINFO_NAMELOOKUP_TIME, &lookup)
        _ = CCurl_getinfo_double(handle, CURLINFO_CONNECT_TIME, &connect)
        _ = CCurl_getinfo_double(handle, CURLINFO_APPCONNECT_TIME, &tls)
        guard code == CURLE_OK else {
            let reason = String(cString: CCurl_easy_strerror(code))
            return Exchange(outcome: .retry(afterMs: nil, reason: reason), httpStatus: nil, seconds: total,
                            nameLookupSeconds: lookup, connectSeconds: connect, tlsSeconds: tls, error: reason)
        }
        var status = 0
        _ = CCurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let outcome = UplinkOutcome.forHTTP(status: status, retryAfter: response.retryAfter, body: String(decoding: response.body, as: UTF8.self))
        if outcome == .delivered && response.asksForVersion2 && !version2Refused { upstreamTakesVersion2 = true }
        return Exchange(outcome: outcome, httpStatus: status, seconds: total, nameLookupSeconds: lookup,
                        connectSeconds: connect, tlsSeconds: tls, error: nil)
    }
}

/// libcurl's version (with its TLS library), for support bundles.
public var libcurlVersionString: String { String(cString: CCurl_version()) }

/// A URL as it may be shown (logs, status, `uplink test`, support bundles):
/// credentials replaced by `<redacted>` — `user:password@`, query parameters
/// that name a token, key, secret, password, signature or auth, and the
/// device token ThingsBoard puts in the path (`/api/v1/TOKEN/telemetry`).
public func redactedURL(_ url: String) -> String {
    var text = url
    if let scheme = text.firstRange(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@"),
       !text[scheme.upperBound..<at].contains("/") {
        text.replaceSubrange(scheme.upperBound..<at, with: "<redacted>")
    }
    if let marker = text.firstRange(of: "/api/v1/") {
        let tokenEnd = text[marker.upperBound...].firstIndex { $0 == "/" || $0 == "?" } ?? text.endIndex
        if tokenEnd > marker.upperBound { text.replaceSubrange(marker.upperBound..<tokenEnd, with: "<redacted>") }
    }
    guard let question = text.firstIndex(of: "?") else { return text }
    let secretNames = ["token", "key", "secret", "password", "sig", "auth"]
    let query = text[text.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
        guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
        let name = pair[..<equals].lowercased()
        return secretNames.contains(where: { name.contains($0) }) ? "\(pair[..<equals])=<redacted>" : String(pair)
    }
    return String(text[...question]) + query.joined(separator: "&")
}

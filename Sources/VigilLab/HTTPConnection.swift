import Glibc
import VigilCore
import VigilThreads

struct HTTPRequest {
    var method: String
    var path: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// A header's value by its name, case-insensitively.
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name }?.value
    }
}

struct HTTPResponse {
    var status: Int
    var headers: [String] = []
    var body: String

    var reason: String {
        switch status {
        case 200: "OK"; case 204: "No Content"; case 400: "Bad Request"; case 401: "Unauthorized"; case 405: "Method Not Allowed"
        case 411: "Length Required"; case 413: "Payload Too Large"; case 415: "Unsupported Media Type"; case 429: "Too Many Requests"; case 500: "Internal Server Error"
        default: "Status"
        }
    }
}

/// HTTP/1.1 on one socket, enough for the reference receiver: requests with
/// a Content-Length, keep-alive, no chunked bodies (curl sends a length).
struct HTTPConnection {
    let fd: Int32
    private var buffer: [UInt8] = []
    static let maxHeaderBytes = 64 * 1024
    static let maxBodyBytes = 64 * 1024 * 1024

    init(fd: Int32) { self.fd = fd }

    private mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = retryingInterrupts { chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } }
            if n <= 0 { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
    }

    /// The next request, or nil when the peer closed or sent something unusable.
    mutating func readRequest() -> HTTPRequest? {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            if let range = buffer.firstRange(of: separator) { headerEnd = range.lowerBound; break }
            if buffer.count > Self.maxHeaderBytes || !fill() { return nil }
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst().split(separator: " ").map(String.init)
        guard requestLine.count >= 2 else { return nil }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), trimmed(String(line[line.index(after: colon)...])))
        }
        var request = HTTPRequest(method: requestLine[0], path: requestLine[1], headers: headers, body: [])
        let length = request.header("content-length").flatMap { Int($0) } ?? 0
        guard length <= Self.maxBodyBytes else { return nil }
        let bodyStart = headerEnd! + 4
        while buffer.count < bodyStart + length {
            if !fill() { return nil }
        }
        request.body = Array(buffer[bodyStart..<(bodyStart + length)])
        buffer.removeFirst(bodyStart + length)
        return request
    }

    func write(_ response: HTTPResponse) -> Bool {
        // 204: no body, so neither its length nor its type (the fewest bytes back to a gateway on a SIM).
        var text = response.status == 204 ? "HTTP/1.1 204 No Content\r\n"
            : "HTTP/1.1 \(response.status) \(response.reason)\r\nContent-Length: \(response.body.utf8.count)\r\nContent-Type: text/plain\r\n"
        for header in response.headers { text += header + "\r\n" }
        text += "\r\n" + response.body
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = retryingInterrupts { bytes.withUnsafeMutableBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) } }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}

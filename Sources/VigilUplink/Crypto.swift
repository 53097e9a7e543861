import CCryptoLoader

/// The few primitives platform logins are signed with, by OpenSSL's libcrypto
/// (loaded on first use).
enum Crypto {
    enum Digest: String { case md5, sha1, sha256 }

    static func hmac(_ digest: Digest, key: [UInt8], message: [UInt8]) throws(MQTTLogin.Failure) -> [UInt8] {
        try loaded()
        var out = [UInt8](repeating: 0, count: 32)
        let length = out.withUnsafeMutableBufferPointer { buffer in
            CCrypto_hmac(digest.rawValue, key, Int32(key.count), message, message.count, buffer.baseAddress!)
        }
        guard length > 0 else { throw MQTTLogin.Failure(description: "HMAC-\(digest.rawValue.uppercased()) failed in libcrypto") }
        return Array(out.prefix(Int(length)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, as: UTF8.self)
    }

    static func base64(_ bytes: [UInt8]) throws(MQTTLogin.Failure) -> String {
        try loaded()
        var out = [CChar](repeating: 0, count: 4 * ((bytes.count + 2) / 3) + 1)
        guard CCrypto_base64_encode(bytes, Int32(bytes.count), &out) >= 0 else { throw MQTTLogin.Failure(description: "base64 failed in libcrypto") }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// nil when `text` is not padded base64.
    static func fromBase64(_ text: String) throws(MQTTLogin.Failure) -> [UInt8]? {
        try loaded()
        let chars = Array(text.utf8).map { CChar(bitPattern: $0) }
        var out = [UInt8](repeating: 0, count: 3 * chars.count / 4 + 3)
        let length = CCrypto_base64_decode(chars, Int32(chars.count), &out)
        return length < 0 ? nil : Array(out.prefix(Int(length)))
    }

    private static func loaded() throws(MQTTLogin.Failure) {
        if let error = CCrypto_load() { throw MQTTLogin.Failure(description: "cannot load libcrypto: \(String(cString: error))") }
    }
}

import VigilCore

/// An MQTT login a platform computes from a device secret, instead of a user
/// name and a password file.
public struct MQTTLogin: Sendable, Equatable {
    public var clientID: String
    public var username: String
    public var password: String

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Alibaba Cloud IoT's device login ("MQTT-TCP连接通信", signmethod hmacsha256):
    /// client id `<id>|securemode=2,signmethod=hmacsha256,timestamp=<ms>|` (securemode 3
    /// without TLS), user name `<deviceName>&<productKey>`, password the hex HMAC-SHA256 of
    /// `clientId<id>deviceName<dn>productKey<pk>timestamp<ms>` keyed by the device secret.
    public static func alink(productKey: String, deviceName: String, deviceSecret: String, clientID: String? = nil,
                             timestampMs: Int64, tls: Bool) throws(Failure) -> MQTTLogin {
        let id = clientID ?? "\(productKey).\(deviceName)"
        let signed = "clientId\(id)deviceName\(deviceName)productKey\(productKey)timestamp\(timestampMs)"
        return MQTTLogin(clientID: "\(id)|securemode=\(tls ? 2 : 3),signmethod=hmacsha256,timestamp=\(timestampMs)|",
                         username: "\(deviceName)&\(productKey)", password: try hmacSHA256Hex(key: deviceSecret, message: signed))
    }

    /// Huawei Cloud IoTDA's device login ("设备连接鉴权"): client id
    /// `<deviceId>_0_1_<YYYYMMDDHH>` (device id; HMAC-SHA256 with the timestamp checked
    /// against the platform's clock), user name the device id, password the hex
    /// HMAC-SHA256 of the secret keyed by that UTC hour.
    public static func iotda(deviceID: String, secret: String, atMs: Int64) throws(Failure) -> MQTTLogin {
        let hour = String(WallTime(milliseconds: atMs, clockSynced: true).iso8601.filter(\.isNumber).prefix(10))
        return MQTTLogin(clientID: "\(deviceID)_0_1_\(hour)", username: deviceID, password: try hmacSHA256Hex(key: hour, message: secret))
    }

    /// China Mobile OneNET's device login ("MQTT设备连接", "设备安全认证"): client id the
    /// device name, user name the product id, password the token
    /// `version=2018-10-31&res=products/<pid>/devices/<dn>&et=<expiry s>&method=<m>&sign=<sign>`
    /// with each value URL-encoded, where sign is the base64 HMAC (md5, sha1 or sha256) keyed by
    /// the base64-decoded key over `et\nmethod\nres\nversion`.
    public static func onenet(productID: String, deviceName: String, key: String, method: String = "sha256",
                              expiresAtSeconds: Int64) throws(Failure) -> MQTTLogin {
        MQTTLogin(clientID: deviceName, username: productID,
                  password: try onenetToken(resource: "products/\(productID)/devices/\(deviceName)", key: key, method: method, expiresAtSeconds: expiresAtSeconds))
    }

    /// A OneNET token for any resource: a device's (`products/<pid>/devices/<dn>`, its device key)
    /// or a product's (`products/<pid>`, the product's access key).
    public static func onenetToken(resource: String, key: String, method: String, expiresAtSeconds: Int64) throws(Failure) -> String {
        guard let digest = Crypto.Digest(rawValue: method) else { throw Failure(description: "OneNET token method \(method): expected md5, sha1 or sha256") }
        guard let keyBytes = try Crypto.fromBase64(key), !keyBytes.isEmpty else {
            throw Failure(description: "the OneNET key is not base64 (copy it as the console shows it)")
        }
        let version = "2018-10-31"
        let sign = try Crypto.base64(try Crypto.hmac(digest, key: keyBytes, message: Array("\(expiresAtSeconds)\n\(method)\n\(resource)\n\(version)".utf8)))
        return "version=\(version)&res=\(urlEncoded(resource))&et=\(expiresAtSeconds)&method=\(method)&sign=\(urlEncoded(sign))"
    }

    /// Every byte but letters, digits and `-_.~` as %XX, as the token's values must be.
    static func urlEncoded(_ text: String) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            if (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || "-_.~".utf8.contains(byte) { out.append(byte) } else {
                out += [0x25, digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lower-case hex of HMAC-SHA256, by OpenSSL's libcrypto.
    public static func hmacSHA256Hex(key: String, message: String) throws(Failure) -> String {
        Crypto.hex(try Crypto.hmac(.sha256, key: Array(key.utf8), message: Array(message.utf8)))
    }
}

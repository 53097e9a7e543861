import CCryptoLoader
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

    /// Lower-case hex of HMAC-SHA256, by OpenSSL's libcrypto.
    public static func hmacSHA256Hex(key: String, message: String) throws(Failure) -> String {
        if let error = CCrypto_load() { throw Failure(description: "cannot load libcrypto: \(String(cString: error))") }
        var digest = [UInt8](repeating: 0, count: 32)
        let key = Array(key.utf8), message = Array(message.utf8)
        let rc = digest.withUnsafeMutableBufferPointer { out in
            CCrypto_hmac_sha256(key, Int32(key.count), message, message.count, out.baseAddress!)
        }
        guard rc == 0 else { throw Failure(description: "HMAC-SHA256 failed in libcrypto") }
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0xF)]] }, as: UTF8.self)
    }
}

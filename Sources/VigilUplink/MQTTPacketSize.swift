/// Sizes of the MQTT packets the uplink sends and receives for its data, as the
/// spec lays them out (MQTT 5.0 §3.3 PUBLISH, §3.4 PUBACK; 3.1.1 the same without
/// properties): what `bytesOnTheWire` counts. Keepalives and reconnects are not counted.
enum MQTTPacketSize {
    static func publish(topic: String, payload: Int, qos: Int32, v5: Bool) -> Int {
        let remaining = 2 + topic.utf8.count + (qos > 0 ? 2 : 0) + (v5 ? 1 : 0) + payload
        return 1 + lengthBytes(remaining) + remaining
    }

    /// A PUBACK with success: fixed header, length, packet id (MQTT 5 may omit the reason code then).
    static let puback = 4

    /// The Remaining Length is a variable byte integer: 7 bits a byte.
    static func lengthBytes(_ length: Int) -> Int {
        switch length {
        case ..<128: 1
        case ..<16_384: 2
        case ..<2_097_152: 3
        default: 4
        }
    }
}

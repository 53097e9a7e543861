/// Cuts Modbus RTU requests out of the bytes a serial line delivers, for a
/// server that answers several unit ids on one line.
///
/// libmodbus's RTU server answers one slave id; a frame for any other unit
/// makes it sleep its response timeout and flush the line, which swallows the
/// next request too (measured: unit 1, 2, 1 on one line timed out the third).
/// On a multi-drop RS-485 line every device sees every frame, so the framing is
/// done here: a request's length follows from its function code (and byte
/// count), the CRC decides whether it is one, and a damaged or unknown frame
/// is dropped byte by byte until a good one starts, or at the next silence.
public struct RTURequestFramer {
    private var buffer: [UInt8] = []
    /// Bytes dropped because no valid request started with them.
    public private(set) var discardedBytes = 0

    public init() {}

    public var isEmpty: Bool { buffer.isEmpty }

    public mutating func append<S: Sequence>(_ bytes: S) where S.Element == UInt8 { buffer.append(contentsOf: bytes) }

    /// The next complete request with a good CRC (address, PDU and CRC), if one is buffered.
    public mutating func next() -> [UInt8]? {
        while buffer.count >= 4 {
            guard let length = Self.requestLength(buffer) else { return nil } // its length is not known yet
            guard let length else {
                dropOne() // a function code no request has
                continue
            }
            guard buffer.count >= length else { return nil }
            let frame = Array(buffer[0..<length])
            if Self.crcMatches(frame) {
                buffer.removeFirst(length)
                return frame
            }
            dropOne()
        }
        return nil
    }

    /// The line went quiet in the middle of a frame: what is buffered will never complete.
    public mutating func silence() {
        discardedBytes += buffer.count
        buffer.removeAll()
    }

    private mutating func dropOne() {
        buffer.removeFirst()
        discardedBytes += 1
    }

    /// nil: more bytes are needed to know; .some(nil): no request has this function code.
    static func requestLength(_ b: [UInt8]) -> Int?? {
        switch b[1] {
        case 1, 2, 3, 4, 5, 6: return .some(8)
        case 7, 11, 12, 17: return .some(4)
        case 22: return .some(10)
        case 15, 16: return b.count > 6 ? .some(9 + Int(b[6])) : nil
        case 23: return b.count > 10 ? .some(13 + Int(b[10])) : nil
        default: return .some(nil)
        }
    }

    static func crcMatches(_ frame: [UInt8]) -> Bool {
        let crc = crc16(frame.dropLast(2))
        return frame[frame.count - 2] == UInt8(crc & 0xFF) && frame[frame.count - 1] == UInt8(crc >> 8)
    }

    /// CRC-16/MODBUS (polynomial 0xA001 reflected, initial 0xFFFF); libmodbus keeps its own private.
    static func crc16<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
        }
        return crc
    }
}

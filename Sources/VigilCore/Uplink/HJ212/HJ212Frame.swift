/// The HJ 212-2017 communication packet (§6.3 of the standard): `##`, the data
/// segment's length in four decimal digits, the data segment (ASCII, at most
/// 1024 bytes), its CRC16 in four hex digits, CR LF.
public enum HJ212Frame {
    public static let maxDataBytes = 1024

    /// The standard's CRC16 (its Appendix A): not Modbus's. Each byte is XORed
    /// into the register shifted right by eight, then eight steps of 0xA001.
    public static func crc16<C: Collection<UInt8>>(_ bytes: C) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc = (crc >> 8) ^ UInt16(byte)
            for _ in 0..<8 {
                let carry = crc & 1
                crc >>= 1
                if carry == 1 { crc ^= 0xA001 }
            }
        }
        return crc
    }

    /// The whole packet around a data segment.
    public static func encode(_ data: [UInt8]) -> [UInt8] {
        precondition(data.count <= 9999, "HJ 212 data segment of \(data.count) bytes")
        var out: [UInt8] = [0x23, 0x23]
        out.append(contentsOf: digits(data.count, width: 4, radix: 10))
        out.append(contentsOf: data)
        out.append(contentsOf: digits(Int(crc16(data)), width: 4, radix: 16))
        out.append(contentsOf: [0x0D, 0x0A])
        return out
    }

    private static func digits(_ value: Int, width: Int, radix: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0x30, count: width)
        var v = value
        for i in stride(from: width - 1, through: 0, by: -1) {
            let d = UInt8(v % radix)
            out[i] = d < 10 ? 0x30 + d : 0x37 + d // upper-case hex, as the standard's examples
            v /= radix
        }
        return out
    }

    /// The top-level fields of a data segment (`QN`, `ST`, `CN`, `PW`, `MN`,
    /// `Flag`, …) and `CP`, the text between its `&&` marks.
    public struct Fields: Sendable, Equatable {
        public var values: [String: String]
        public var cp: String

        public subscript(_ key: String) -> String? { values[key] }

        /// The `key=value` pairs inside CP (separated by `;` and `,`).
        public var cpValues: [String: String] {
            var out: [String: String] = [:]
            for pair in cp.split(whereSeparator: { $0 == ";" || $0 == "," }) {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
            }
            return out
        }

        public init(parsing data: [UInt8]) throws(HJ212FrameError) {
            let text = String(decoding: data, as: UTF8.self)
            guard let cpStart = text.firstRange(of: "CP=&&") else { throw HJ212FrameError("no CP=&&…&& in \"\(text.prefix(80))\"") }
            let afterCP = text[cpStart.upperBound...]
            guard afterCP.hasSuffix("&&") else { throw HJ212FrameError("CP does not end with &&") }
            cp = String(afterCP.dropLast(2))
            values = [:]
            for pair in text[..<cpStart.lowerBound].split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2 else { throw HJ212FrameError("\"\(pair)\" is not KEY=VALUE") }
                values[String(kv[0])] = String(kv[1])
            }
        }
    }
}

public struct HJ212FrameError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Cuts a byte stream into data segments: skips what is not a packet up to the
/// next `##`, and counts packets whose length or CRC is wrong.
public struct HJ212FrameReader: Sendable {
    private var buffer: [UInt8] = []
    public private(set) var damaged = 0

    public init() {}

    public mutating func append<C: Collection<UInt8>>(_ bytes: C) { buffer.append(contentsOf: bytes) }

    /// The next whole packet's data segment, or nil until more bytes arrive.
    public mutating func next() -> [UInt8]? {
        while true {
            guard let start = headerStart() else {
                // Nothing but noise: keep a last '#', which may start the next header.
                if buffer.last == 0x23 { buffer = [0x23] } else { buffer.removeAll() }
                return nil
            }
            if start > 0 { buffer.removeFirst(start) }
            guard buffer.count >= 6 else { return nil }
            guard let length = Int(String(decoding: buffer[2..<6], as: UTF8.self)), length <= 9999 else {
                damaged += 1
                buffer.removeFirst(2)
                continue
            }
            let total = 6 + length + 4 + 2
            guard buffer.count >= total else { return nil }
            let data = Array(buffer[6..<(6 + length)])
            let crcText = String(decoding: buffer[(6 + length)..<(10 + length)], as: UTF8.self)
            let ends = buffer[10 + length] == 0x0D && buffer[11 + length] == 0x0A
            guard ends, let crc = UInt16(crcText, radix: 16), crc == HJ212Frame.crc16(data) else {
                damaged += 1
                buffer.removeFirst(2)
                continue
            }
            buffer.removeFirst(total)
            return data
        }
    }

    private func headerStart() -> Int? {
        var i = 0
        while i + 1 < buffer.count {
            if buffer[i] == 0x23 && buffer[i + 1] == 0x23 { return i }
            i += 1
        }
        return nil
    }
}

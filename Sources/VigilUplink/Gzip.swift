import CZlib

public struct GzipError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// gzip (RFC 1952) through zlib.
public enum Gzip {
    /// Level 6 for the small batches of a live site, where the bytes are the
    /// cellular bill and the CPU is microseconds; 1 for the large ones of a
    /// backlog, where the CPU is what limits the drain.
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        let level: Int32 = input.count < 64 * 1024 ? 6 : 1
        var stream = z_stream()
        // 15 + 16: a gzip header and trailer instead of zlib's.
        guard CZlib_deflateInit2(&stream, level, 15 + 16) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        var input = input
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                _ = deflate(&stream, Z_FINISH)
                return outBuffer.count - Int(stream.avail_out)
            }
        }
        output.removeLast(output.count - produced)
        return output
    }

    /// Inflates gzip (or zlib) data, refusing to grow past `limit` bytes.
    public static func decompress(_ input: [UInt8], limit: Int = 256 * 1024 * 1024) throws(GzipError) -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: detect gzip or zlib headers.
        guard CZlib_inflateInit2(&stream, 15 + 32) == Z_OK else { throw GzipError(description: "inflateInit failed") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { c in
                    stream.next_out = c.baseAddress
                    stream.avail_out = uInt(c.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return c.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
            } while status == Z_OK && output.count <= limit && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        if output.count > limit { throw GzipError(description: "inflates past \(limit) bytes") }
        guard status == Z_STREAM_END else {
            throw GzipError(description: status == Z_OK || status == Z_BUF_ERROR ? "truncated gzip data" : "corrupt gzip data (zlib \(status))")
        }
        return output
    }
}

/// zlib's version, for support bundles.
public var zlibVersionString: String { String(cString: zlibVersion()) }

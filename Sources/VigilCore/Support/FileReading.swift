#if canImport(Glibc)
import Glibc
#endif

public struct FileReadError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var reason: String { String(cString: strerror(errno)) }
    public var description: String { "\(path): cannot read: \(reason)" }
}

/// Reads a whole (small) file as UTF-8 text.
public func readTextFile(_ path: String) throws(FileReadError) -> String {
    String(decoding: try readFileBytes(path), as: UTF8.self)
}

/// Reads a whole (small) file.
public func readFileBytes(_ path: String) throws(FileReadError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw FileReadError(path: path, errno: errno) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = retryingInterrupts { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
        if n < 0 { throw FileReadError(path: path, errno: errno) }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return bytes
}

public func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}

/// The permission bits of a file, or nil when it cannot be stat'ed.
public func fileMode(_ path: String) -> UInt32? {
    var st = stat()
    return stat(path, &st) == 0 ? UInt32(st.st_mode) : nil
}

public func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

/// The names in a directory, sorted; empty when it cannot be read.
public func directoryEntries(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

/// The directory part of a path ("." for a bare name).
public func directoryName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

public func baseName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
}

/// The text without leading and trailing white space (spaces, tabs, CR, LF).
public func trimmed(_ text: String) -> String {
    let scalars = text.unicodeScalars
    let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
    guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
    return String(scalars[first...last])
}

/// Writes all of `bytes`, retrying short writes and EINTR. Returns the errno
/// that ended it early (EPIPE: a closed pipe, nothing more can be written
/// there), nil when all was written.
@discardableResult
public func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = retryingInterrupts { write(fd, buffer.baseAddress! + offset, buffer.count - offset) }
            if n < 0 { return errno }
            offset += n
        }
        return nil
    }
}

@discardableResult
public func writeAll(_ fd: Int32, _ text: String) -> Int32? {
    writeAll(fd, Array(text.utf8))
}

#if canImport(Glibc)
import Glibc
#endif

/// An errno from a file operation, with the path and the operation.
public struct FileError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32
    public var description: String { "\(path): \(operation): \(String(cString: strerror(errno)))" }

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation; self.path = path; self.errno = errno
    }
}

/// One open file: a typed wrapper with one function per system call, each
/// retrying EINTR and throwing `FileError`.
public final class POSIXFile: Sendable {
    public let path: String
    public let fd: Int32

    public init(path: String, flags: Int32, mode: mode_t = 0o640) throws(FileError) {
        self.path = path
        let fd = retryingInterrupts { open(path, flags | O_CLOEXEC, mode) }
        if fd < 0 { throw FileError(operation: "open", path: path, errno: errno) }
        self.fd = fd
    }

    deinit { close(fd) }

    public func size() throws(FileError) -> Int {
        var st = stat()
        if fstat(fd, &st) != 0 { throw FileError(operation: "fstat", path: path, errno: errno) }
        return Int(st.st_size)
    }

    /// Appends all of `bytes` at the end (the file is opened O_APPEND or positioned there).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileError) {
        var offset = 0
        while offset < bytes.count {
            let n = retryingInterrupts { Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
            if n < 0 { throw FileError(operation: "write", path: path, errno: errno) }
            offset += n
        }
    }

    public func write(_ bytes: [UInt8]) throws(FileError) {
        var failure: FileError?
        bytes.withUnsafeBytes { buffer in
            do throws(FileError) { try write(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes all of `bytes` at `offset` (pwrite).
    public func write(_ bytes: [UInt8], at offset: Int) throws(FileError) {
        var done = 0
        while done < bytes.count {
            let n = retryingInterrupts { bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) } }
            if n < 0 { throw FileError(operation: "write", path: path, errno: errno) }
            done += n
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    public func read(at offset: Int, count: Int, into buffer: inout [UInt8]) throws(FileError) -> Int {
        if buffer.count < count { buffer = [UInt8](repeating: 0, count: count) }
        var done = 0
        while done < count {
            let n = retryingInterrupts { buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) } }
            if n < 0 { throw FileError(operation: "read", path: path, errno: errno) }
            if n == 0 { break }
            done += n
        }
        return done
    }

    public func dataSync() throws(FileError) {
        if retryingInterrupts({ fdatasync(fd) }) != 0 { throw FileError(operation: "fdatasync", path: path, errno: errno) }
    }

    public func truncate(to size: Int) throws(FileError) {
        if retryingInterrupts({ ftruncate(fd, off_t(size)) }) != 0 { throw FileError(operation: "ftruncate", path: path, errno: errno) }
    }

    public func seekToEnd() throws(FileError) {
        if lseek(fd, 0, SEEK_END) < 0 { throw FileError(operation: "lseek", path: path, errno: errno) }
    }
}

public enum FileSystem {
    /// Makes a directory and its parents; an existing one is fine.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o750) throws(FileError) {
        if isDirectory(path) { return }
        let parent = directoryName(of: path)
        if parent != path && parent != "." && parent != "/" { try makeDirectory(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw FileError(operation: "mkdir", path: path, errno: errno) }
    }

    /// Makes a rename or a new file in `path` survive a power cut.
    public static func syncDirectory(_ path: String) throws(FileError) {
        let dir = try POSIXFile(path: path, flags: O_RDONLY | O_DIRECTORY)
        if retryingInterrupts({ fsync(dir.fd) }) != 0 { throw FileError(operation: "fsync", path: path, errno: errno) }
    }

    public static func rename(_ from: String, to: String) throws(FileError) {
        if Glibc.rename(from, to) != 0 { throw FileError(operation: "rename to \(to)", path: from, errno: errno) }
    }

    public static func remove(_ path: String) throws(FileError) {
        if unlink(path) != 0 && errno != ENOENT { throw FileError(operation: "unlink", path: path, errno: errno) }
    }

    /// Writes a small file so that after a crash or power cut either the old
    /// or the new content is there, whole: temp file, fsync, rename, fsync the directory.
    public static func replaceAtomically(_ path: String, with bytes: [UInt8]) throws(FileError) {
        let temp = "\(path).tmp"
        do {
            let file = try POSIXFile(path: temp, flags: O_WRONLY | O_CREAT | O_TRUNC)
            try file.write(bytes)
            try file.dataSync()
        }
        try rename(temp, to: path)
        try syncDirectory(directoryName(of: path))
    }
}

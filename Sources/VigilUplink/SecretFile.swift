import Glibc
import VigilCore

/// A credential kept in a file (token_file, password_file): read at start and
/// read again when the file changes, so a credential fixed on site is used at
/// the next try without a reload. An unreadable or empty new version keeps
/// the old one. Used from one thread.
final class SecretFile: @unchecked Sendable {
    let path: String
    private(set) var current: String
    private var stamp: timespec?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String) throws(Failure) {
        self.path = path
        stamp = Self.modified(path)
        do { current = trimmed(try readTextFile(path)) } catch { throw Failure(description: "\(error)") }
        if current.isEmpty { throw Failure(description: "\(path) is empty") }
    }

    /// Reads the file again when it changed since the last look; true when the secret did.
    @discardableResult
    func changed() -> Bool {
        guard let now = Self.modified(path), now.tv_sec != stamp?.tv_sec || now.tv_nsec != stamp?.tv_nsec else { return false }
        stamp = now
        guard let text = try? readTextFile(path), !trimmed(text).isEmpty, trimmed(text) != current else { return false }
        current = trimmed(text)
        return true
    }

    private static func modified(_ path: String) -> timespec? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mtim : nil
    }
}

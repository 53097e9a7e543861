import Glibc
import VigilAgent

/// The identity the unit runs vigil under (User=, its groups, SupplementaryGroups=),
/// taken on for a moment to try paths as the service would: the kernel's own
/// permission check (modes, ACLs, closed directories), not our reading of modes.
struct ServiceUser {
    var name: String
    var uid: uid_t
    var gid: gid_t
    var groupName: String
    var groups: [gid_t]

    enum LookupError: Error, CustomStringConvertible {
        case noSuchUser(String)
        case notRoot(String)
        var description: String {
            switch self {
            case .noSuchUser(let name):
                "there is no user \(name) on this machine: the package makes it (systemd-sysusers vigil.conf), or give --user"
            case .notRoot(let name):
                "checking as \(name) needs root (sudo vigil config check --as-service)"
            }
        }
    }

    static func lookup(_ name: String, supplementary: [String]) throws(LookupError) -> ServiceUser {
        guard let entry = getpwnam(name) else { throw .noSuchUser(name) }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        guard geteuid() == 0 || geteuid() == uid else { throw .notRoot(name) }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, gid, &groups, &count)
        }
        groups = Array(groups.prefix(Int(max(count, 0))))
        for extra in supplementary {
            if let group = getgrnam(extra), !groups.contains(group.pointee.gr_gid) { groups.append(group.pointee.gr_gid) }
        }
        return ServiceUser(name: name, uid: uid, gid: gid, groupName: Self.groupName(gid) ?? name, groups: groups)
    }

    static func groupName(_ gid: gid_t) -> String? {
        guard let group = getgrgid(gid) else { return nil }
        return String(cString: group.pointee.gr_name)
    }

    /// What stops this user from using the need's path, or nil.
    func problem(with need: AccessNeed) -> AccessProblem? {
        asThisUser {
            if faccessat(AT_FDCWD, need.path, F_OK, AT_EACCESS) != 0 {
                return errno == ENOENT || errno == ENOTDIR ? .missing : .pathClosed
            }
            let mode = need.write ? R_OK | W_OK : R_OK
            let searchable = need.kind == .stateDirectory ? mode | X_OK : mode
            guard faccessat(AT_FDCWD, need.path, searchable, AT_EACCESS) != 0 else { return Self.devicePolicyProblem(need.path) }
            var info = stat()
            guard stat(need.path, &info) == 0 else { return .pathClosed }
            let wanted: mode_t = need.write ? 0o060 : 0o040
            return .denied(group: Self.groupName(info.st_gid) ?? String(info.st_gid), groupMayAccess: info.st_mode & wanted == wanted)
        }
    }

    /// A character device the unit's DevicePolicy=closed would refuse (as root: /proc/devices is read after).
    static func devicePolicyProblem(_ path: String) -> AccessProblem? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFCHR else { return nil }
        let node = info.st_rdev
        let driver = (try? readTextFile("/proc/devices")).flatMap { ServiceAccess.characterDriver(major: ServiceAccess.major(of: UInt64(node)), procDevices: $0) }
        let allowed = ServiceAccess.deviceAllowed(driver: driver) { entry in
            var other = stat()
            return stat(entry, &other) == 0 && other.st_mode & S_IFMT == S_IFCHR && other.st_rdev == node
        }
        return allowed ? nil : .notInDeviceAllow(driver: driver)
    }

    /// Runs body with this user's effective ids and groups, then takes root's back.
    /// (glibc applies set*id to every thread of the process.)
    private func asThisUser<T>(_ body: () -> T) -> T {
        guard geteuid() == 0, uid != 0 else { return body() }
        var saved = [gid_t](repeating: 0, count: Int(getgroups(0, nil)))
        _ = getgroups(Int32(saved.count), &saved)
        let savedGid = getegid()
        guard setgroups(groups.count, groups) == 0, setegid(gid) == 0, seteuid(uid) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = seteuid(0); _ = setegid(savedGid); _ = setgroups(saved.count, saved)
            // Trying as root would pass what the service cannot do: give up instead.
            printError("vigil: cannot take on \(name)'s identity: \(reason)")
            exit(ExitCode.usage)
        }
        defer { _ = seteuid(0); _ = setegid(savedGid); _ = setgroups(saved.count, saved) }
        return body()
    }
}

/// What the service must reach for a config to run under systemd/vigil.service
/// (User=vigil, ProtectSystem=strict): `vigil config check --as-service` tries each
/// need as that user and prints the fix for every one it cannot meet. Pure: the
/// trying is the command's business.
#if canImport(Glibc)
import Glibc
#endif

public struct AccessNeed: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case config, serialPort, secret, tlsFile, stateDirectory, watchdog, gpioChip
    }

    public var kind: Kind
    /// Where the config names it: `buses[0].device`, `uplink.token_file`.
    public var subject: String
    public var path: String
    public var write: Bool

    public init(_ kind: Kind, _ subject: String, _ path: String, write: Bool) {
        self.kind = kind; self.subject = subject; self.path = path; self.write = write
    }
}

/// Why the service user cannot use a path.
public enum AccessProblem: Sendable, Equatable {
    case missing
    /// A directory on the way is closed to the user.
    case pathClosed
    /// The file is there and the user may not read (or write) it. The file's
    /// group and whether that group may do what is needed, for the fix.
    case denied(group: String, groupMayAccess: Bool)
    /// Writable only outside the unit's sandbox (ProtectSystem=strict).
    case outsideSandbox
    /// The service sees an empty directory there (PrivateTmp=, ProtectHome=): the setting.
    case hiddenBySandbox(String)
    /// A device node the unit's DevicePolicy=closed does not let through; its driver
    /// (the major's name in /proc/devices) when known.
    case notInDeviceAllow(driver: String?)
}

public enum ServiceAccess {
    /// As systemd/vigil.service says (ServiceTests compares them).
    public static let unitUser = "vigil"
    public static let unitSupplementaryGroups = ["dialout", "gpio", "vigil-watchdog"]
    /// The unit's StateDirectory=: the only place below /var it may write.
    public static let unitStateDirectory = "/var/lib/vigil"
    /// The unit's DeviceAllow= entries (DevicePolicy=closed lets nothing else through).
    public static let unitDeviceAllow = ["char-ttyS", "char-ttyUSB", "char-ttyACM", "char-ttyAMA", "/dev/ttyM0", "/dev/ttyM1",
                                         "/dev/ttyRS485", "char-gpiochip", "char-watchdog", "/dev/watchdog"]

    /// Whether DeviceAllow= lets a device node through: by its driver's name
    /// (`char-ttyUSB` covers every ttyUSB), or as the node an allowed path names
    /// (systemd resolves paths, symlinks included, when the unit starts).
    public static func deviceAllowed(driver: String?, isNodeOf: (String) -> Bool) -> Bool {
        unitDeviceAllow.contains { entry in
            entry.hasPrefix("char-") ? driver.map { "char-\($0)" == entry } ?? false : isNodeOf(entry)
        }
    }

    /// A device number's major, as glibc's major() splits a dev_t.
    public static func major(of device: UInt64) -> Int {
        Int(((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff))
    }

    /// A character major's driver name from /proc/devices ("188 ttyUSB" under "Character devices:").
    public static func characterDriver(major: Int, procDevices: String) -> String? {
        var inCharacter = false
        for line in procDevices.split(separator: "\n") {
            if line.hasSuffix("devices:") { inCharacter = line.hasPrefix("Character"); continue }
            let fields = line.split(separator: " ")
            if inCharacter, fields.count == 2, Int(fields[0]) == major { return String(fields[1]) }
        }
        return nil
    }

    public static func needs(of config: VigilConfig) -> [AccessNeed] {
        var needs = [AccessNeed(.config, "the config", config.file, write: false)]
        for (i, bus) in config.buses.enumerated() {
            if case .rtu(let serial) = bus.transport {
                needs.append(AccessNeed(.serialPort, "buses[\(i)].device (\(bus.id))", serial.device, write: true))
            }
        }
        for (key, path) in uplinkFiles(config.uplink) {
            needs.append(AccessNeed(["token_file", "password_file", "device_secret_file", "client_key"].contains(key) ? .secret : .tlsFile, "uplink.\(key)", path, write: false))
        }
        for device in config.devices {
            if let cloud = device.cloud { needs.append(AccessNeed(.secret, "devices \(device.id) cloud.device_secret_file", cloud.deviceSecretFile, write: false)) }
        }
        needs.append(AccessNeed(.stateDirectory, "gateway.state_dir", config.gateway.stateDir, write: true))
        if let device = config.watchdog.device {
            needs.append(AccessNeed(.watchdog, "watchdog.device", device, write: true))
        }
        var chips: [String] = []
        let lines = config.gpio.inputs.map(\.line) + config.gpio.outputs.map(\.line) + (config.gpio.statusLED.map { [$0] } ?? [])
        for line in lines where !chips.contains(line.chip) { chips.append(line.chip) }
        for chip in chips {
            needs.append(AccessNeed(.gpioChip, "gpio chip \(chip)", chipPath(chip), write: true))
        }
        return needs
    }

    /// What to do when a serial port will not open, for the log line that says so.
    public static func serialOpenHint(errno: Int32) -> String {
        switch errno {
        case EACCES:
            "; the user running vigil needs the port's group (usermod -aG dialout \(unitUser)); "
                + "`vigil config check --as-service` names the fix"
        case EPERM:
            "; under vigil.service the port must also be in DeviceAllow= (systemctl edit vigil); "
                + "`vigil config check --as-service` checks it"
        case ENOENT, ENODEV, ENXIO:
            "; is the adapter plugged in? `ls -l /dev/serial/by-id/` names what is attached"
        default:
            ""
        }
    }

    /// libgpiod takes a chip by path, name or number.
    public static func chipPath(_ chip: String) -> String {
        if chip.hasPrefix("/") { return chip }
        if !chip.isEmpty, chip.allSatisfy(\.isNumber) { return "/dev/gpiochip\(chip)" }
        return "/dev/\(chip)"
    }

    /// What the unit's sandbox does to a path, whatever its owner and mode: a private
    /// /tmp and no /home or /root for anything; read-only outside the state directory.
    public static func sandboxProblem(_ need: AccessNeed) -> AccessProblem? {
        let path = need.path.hasSuffix("/") ? String(need.path.dropLast()) : need.path
        func isUnder(_ directory: String) -> Bool { path == directory || path.hasPrefix(directory + "/") }
        if isUnder("/tmp") || isUnder("/var/tmp") { return .hiddenBySandbox("PrivateTmp=yes") }
        if isUnder("/home") || isUnder("/root") || isUnder("/run/user") { return .hiddenBySandbox("ProtectHome=yes") }
        guard need.kind == .stateDirectory else { return nil }
        return isUnder(unitStateDirectory) ? nil : .outsideSandbox
    }

    /// What an installer types (or does) to meet the need.
    public static func fix(_ need: AccessNeed, _ problem: AccessProblem, user: String, userGroup: String) -> String {
        let path = need.path
        switch (problem, need.kind) {
        case (.notInDeviceAllow(let driver), _):
            let entry = driver.map { "char-\($0)" } ?? path
            return "the unit's DevicePolicy=closed keeps it out: `systemctl edit vigil` and add [Service] DeviceAllow=\(entry) rw"
        case (.hiddenBySandbox(let setting), _):
            return "the unit's \(setting) gives the service its own empty \(path.split(separator: "/").first.map { "/\($0)" } ?? path): "
                + "keep it in /etc/vigil (\(need.kind == .stateDirectory ? "state: " + unitStateDirectory : "chgrp \(userGroup), chmod 640"))"
        case (.outsideSandbox, _):
            return "the unit's ProtectSystem=strict keeps \(path) read-only for the service: use \(unitStateDirectory) "
                + "(systemd makes it), or add ReadWritePaths=\(path) with `systemctl edit vigil`"
        case (.missing, .serialPort):
            return "no such device: is the adapter plugged in? `ls -l /dev/serial/by-id/` names what is attached "
                + "(a USB adapter's ttyUSB number can change at boot; its by-id path does not)"
        case (.missing, .stateDirectory):
            return "systemd makes \(unitStateDirectory) at start (StateDirectory=); elsewhere: install -d -o \(user) -g \(userGroup) -m 750 \(path)"
        case (.missing, .watchdog):
            return "no watchdog device: load the board's watchdog driver, or remove watchdog.device (systemd's watchdog still runs)"
        case (.missing, .gpioChip):
            return "no such chip: `gpiodetect` lists the chips this board has"
        case (.missing, _):
            return "create it, or correct the path in the config"
        case (.pathClosed, _):
            return "a directory on the way to \(path) is closed to \(user): give group \(userGroup) r-x on it (chgrp \(userGroup) DIR && chmod 750 DIR)"
        case (.denied(let group, true), .serialPort), (.denied(let group, true), .gpioChip), (.denied(let group, true), .watchdog):
            return "usermod -aG \(group) \(user), then restart the service"
        case (.denied, .serialPort), (.denied, .gpioChip), (.denied, .watchdog):
            let name = fileName(of: path)
            return "its group may not open it: a udev rule such as KERNEL==\"\(name.prefix { !$0.isNumber })*\", GROUP=\"\(userGroup)\", MODE=\"0660\" "
                + "in /etc/udev/rules.d/60-vigil.rules, then `udevadm trigger`"
        case (.denied, .stateDirectory):
            return "chown -R \(user):\(userGroup) \(path)"
        case (.denied, _):
            return "chgrp \(userGroup) \(path) && chmod 640 \(path)"
        }
    }

    private static func uplinkFiles(_ uplink: UplinkSpec) -> [(String, String)] {
        var files: [(String, String?)] = []
        switch uplink {
        case .stdout:
            break
        case .http(let spec):
            files = [("token_file", spec.tokenFile), ("ca_file", spec.caFile), ("client_cert", spec.clientCert), ("client_key", spec.clientKey)]
        case .mqtt(let spec):
            files = [("password_file", spec.passwordFile), ("token_file", spec.tokenFile), ("device_secret_file", spec.deviceSecretFile), ("ca_file", spec.caFile),
                     ("client_cert", spec.clientCert), ("client_key", spec.clientKey)]
        case .hj212(let spec):
            files = [("password_file", spec.passwordFile)]
        }
        return files.compactMap { key, path in path.map { (key, $0) } }
    }

    private static func fileName(of path: String) -> Substring {
        path.split(separator: "/").last ?? Substring(path)
    }
}

import Foundation
import XCTest
import VigilCore
import VigilTestSupport

final class ServiceAccessTests: XCTestCase {
    let loader = ConfigLoader(profiles: ProfileLibrary(directories: [Repo.path("Profiles")]), environment: .system(machineIDFile: "/nonexistent"))

    func testTheNeedsAreWhatTheConfigNames() throws {
        let dir = temporaryDirectory()
        for name in ["pw", "c", "k"] {
            FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data("x".utf8), attributes: [.posixPermissions: 0o600])
        }
        let config = try loader.parse("""
            { gateway: { id: 'gw', state_dir: '/var/lib/vigil' },
              buses: [{ id: 'rs485', kind: 'rtu', device: '/dev/ttyUSB0' }, { id: 'lan', kind: 'tcp', host: 'h' }],
              devices: [{ id: 'd', bus: 'rs485', unit: 1, points: [{ id: 'p', table: 'holding', address: 1 }] }],
              uplink: { kind: 'mqtt', url: 'mqtts://broker:8883', username: 'gw', password_file: '\(dir)/pw', client_cert: '\(dir)/c', client_key: '\(dir)/k' },
              watchdog: { device: '/dev/watchdog0' },
              inputs: [{ id: 'smoke', chip: '0', offset: 3 }], outputs: [{ id: 'siren', chip: 'gpiochip0', offset: 4 }] }
            """, file: "/etc/vigil/vigil.json5").get()
        let needs = ServiceAccess.needs(of: config)
        XCTAssertEqual(needs.map(\.subject), ["the config", "buses[0].device (rs485)", "uplink.password_file", "uplink.client_cert",
                                             "uplink.client_key", "gateway.state_dir", "watchdog.device", "gpio chip 0", "gpio chip gpiochip0"])
        XCTAssertEqual(needs.map(\.kind), [.config, .serialPort, .secret, .tlsFile, .secret, .stateDirectory, .watchdog, .gpioChip, .gpioChip])
        XCTAssertEqual(needs.filter(\.write).map(\.path), ["/dev/ttyUSB0", "/var/lib/vigil", "/dev/watchdog0", "/dev/gpiochip0", "/dev/gpiochip0"])
    }

    func testOnlyTheUnitsStateDirectoryIsWritableInItsSandbox() {
        func problem(_ path: String) -> AccessProblem? {
            ServiceAccess.sandboxProblem(AccessNeed(.stateDirectory, "gateway.state_dir", path, write: true))
        }
        XCTAssertNil(problem("/var/lib/vigil"))
        XCTAssertNil(problem("/var/lib/vigil/site-2/"))
        XCTAssertEqual(problem("/var/lib/vigil-old"), .outsideSandbox)
        XCTAssertEqual(problem("/data/vigil"), .outsideSandbox)
        XCTAssertNil(ServiceAccess.sandboxProblem(AccessNeed(.secret, "uplink.token_file", "/data/token", write: false)))
        // Private /tmp, no /home or /root: for every kind of path.
        XCTAssertEqual(ServiceAccess.sandboxProblem(AccessNeed(.secret, "uplink.token_file", "/tmp/token", write: false)), .hiddenBySandbox("PrivateTmp=yes"))
        XCTAssertEqual(ServiceAccess.sandboxProblem(AccessNeed(.tlsFile, "uplink.ca_file", "/root/ca.pem", write: false)), .hiddenBySandbox("ProtectHome=yes"))
        XCTAssertEqual(problem("/var/tmp/vigil"), .hiddenBySandbox("PrivateTmp=yes"))
        XCTAssertNil(ServiceAccess.sandboxProblem(AccessNeed(.secret, "uplink.token_file", "/tmpfiles/token", write: false)))
    }

    func testEachFixNamesTheCommandForItsCase() {
        let port = AccessNeed(.serialPort, "buses[0].device", "/dev/ttyAMA0", write: true)
        XCTAssertEqual(ServiceAccess.fix(port, .denied(group: "dialout", groupMayAccess: true), user: "vigil", userGroup: "vigil"),
                       "usermod -aG dialout vigil, then restart the service")
        XCTAssertTrue(ServiceAccess.fix(port, .denied(group: "root", groupMayAccess: false), user: "vigil", userGroup: "vigil")
            .contains("KERNEL==\"ttyAMA*\", GROUP=\"vigil\", MODE=\"0660\""))
        let token = AccessNeed(.secret, "uplink.token_file", "/etc/vigil/token", write: false)
        XCTAssertEqual(ServiceAccess.fix(token, .denied(group: "root", groupMayAccess: false), user: "vigil", userGroup: "vigil"),
                       "chgrp vigil /etc/vigil/token && chmod 640 /etc/vigil/token")
        let state = AccessNeed(.stateDirectory, "gateway.state_dir", "/var/lib/vigil", write: true)
        XCTAssertEqual(ServiceAccess.fix(state, .denied(group: "root", groupMayAccess: false), user: "vigil", userGroup: "vigil"),
                       "chown -R vigil:vigil /var/lib/vigil")
    }

    func testTheDevicePolicyGoesByDriverOrByNode() {
        let procDevices = "Character devices:\n  1 mem\n  4 ttyS\n 10 misc\n188 ttyUSB\n254 gpiochip\n\nBlock devices:\n  8 sd\n"
        XCTAssertEqual(ServiceAccess.characterDriver(major: 188, procDevices: procDevices), "ttyUSB")
        XCTAssertEqual(ServiceAccess.characterDriver(major: 10, procDevices: procDevices), "misc")
        XCTAssertNil(ServiceAccess.characterDriver(major: 8, procDevices: procDevices), "8 is a block major")
        XCTAssertEqual(ServiceAccess.major(of: 0xbc00), 188) // makedev(188, 0)
        // glibc's makedev(0x1234, 0x56): the major's low 12 bits at 8, its high bits at 44.
        XCTAssertEqual(ServiceAccess.major(of: (0x234 << 8) | (0x1000 << 32) | 0x56), 0x1234)
        XCTAssertTrue(ServiceAccess.deviceAllowed(driver: "ttyUSB") { _ in false })
        XCTAssertFalse(ServiceAccess.deviceAllowed(driver: "mem") { _ in false })
        // /dev/watchdog is a misc device: let through as the node its path names, not by driver.
        XCTAssertFalse(ServiceAccess.deviceAllowed(driver: "misc") { _ in false })
        XCTAssertTrue(ServiceAccess.deviceAllowed(driver: "misc") { $0 == "/dev/watchdog" })
    }

    func testASerialPortThatWillNotOpenSaysWhy() {
        XCTAssertTrue(ServiceAccess.serialOpenHint(errno: EACCES).contains("usermod -aG dialout vigil"))
        XCTAssertTrue(ServiceAccess.serialOpenHint(errno: EPERM).contains("DeviceAllow="))
        XCTAssertTrue(ServiceAccess.serialOpenHint(errno: ENOENT).contains("/dev/serial/by-id/"))
        XCTAssertEqual(ServiceAccess.serialOpenHint(errno: EIO), "")
    }

    /// The identity `--as-service` takes on is the unit's.
    func testTheUnitIsWhatTheCheckAssumes() throws {
        let unit = try String(contentsOfFile: Repo.path("systemd/vigil.service"), encoding: .utf8)
        let lines = unit.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("User=\(ServiceAccess.unitUser)"))
        XCTAssertTrue(lines.contains("SupplementaryGroups=\(ServiceAccess.unitSupplementaryGroups.joined(separator: " "))"))
        XCTAssertTrue(lines.contains("StateDirectory=\(ServiceAccess.unitStateDirectory.split(separator: "/").last!)"))
        XCTAssertTrue(lines.contains("ProtectSystem=strict"))
        XCTAssertTrue(lines.contains("PrivateTmp=yes") && lines.contains("ProtectHome=yes") && lines.contains("DevicePolicy=closed"))
        XCTAssertEqual(lines.filter { $0.hasPrefix("DeviceAllow=") }, ServiceAccess.unitDeviceAllow.map { "DeviceAllow=\($0) rw" })
        // ... and sysusers makes the user a member of each of those groups.
        let sysusers = try String(contentsOfFile: Repo.path("systemd/vigil.sysusers.conf"), encoding: .utf8)
        for group in ServiceAccess.unitSupplementaryGroups {
            XCTAssertTrue(sysusers.contains("\nm \(ServiceAccess.unitUser) \(group)\n"), "vigil.sysusers.conf: no member line for \(group)")
        }
    }
}

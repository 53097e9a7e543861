import Foundation
import XCTest
import VigilTestSupport

/// `vigil config check --as-service`: the kernel's answer for the service's user,
/// here `nobody` (present on every Debian), since the test machine has no vigil user.
final class ServiceUserCheckTests: XCTestCase {
    func testEveryPathTheServiceCannotUseIsNamedWithItsFix() throws {
        guard getuid() == 0 else { throw XCTSkip("taking on another user's identity needs root") }
        // Not in /tmp: the unit's PrivateTmp= hides that from the service, and the check says so.
        let dir = "/run/vigil-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let token = "\(dir)/token", port = "\(dir)/ttyFAKE0", openPort = "\(dir)/ttyFAKE1"
        try "secret\n".write(toFile: token, atomically: true, encoding: .utf8)
        chmod(token, 0o600) // root's alone, as `chmod 600` leaves it
        // Serial ports stand in as files: the kernel's access check is the same.
        FileManager.default.createFile(atPath: port, contents: nil)
        chmod(port, 0o660) // group root may, nobody is not in it
        FileManager.default.createFile(atPath: openPort, contents: nil)
        chmod(openPort, 0o666)
        let config = "\(dir)/vigil.json5"
        try """
            { gateway: { id: 'gw', state_dir: '\(dir)/state' },
              buses: [{ id: 'a', kind: 'rtu', device: '\(port)' }, { id: 'b', kind: 'rtu', device: '\(openPort)' },
                      { id: 'c', kind: 'rtu', device: '\(dir)/ttyUSB7' }, { id: 'd', kind: 'rtu', device: '/dev/null' }],
              devices: [{ id: 'd', bus: 'a', unit: 1, points: [{ id: 'p', table: 'holding', address: 1 }] }],
              uplink: { kind: 'http', url: 'http://127.0.0.1:9/', token_file: '\(token)' } }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o644)

        let plain = try runCommand(Repo.vigil, ["config", "check", config])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stderr.contains("warning: buses[2].device (c): \(dir)/ttyUSB7 does not exist on this machine"), plain.stderr)
        XCTAssertTrue(plain.stdout.contains("skipped: serial ports, secrets, state directory and watchdog as the service user and its sandbox see them"), plain.stdout)

        let r = try runCommand(Repo.vigil, ["config", "check", config, "--as-service", "--user", "nobody"])
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("ok    the config \(config): read as nobody"), r.stdout)
        XCTAssertTrue(r.stdout.contains("FAIL  buses[0].device (a) \(port): nobody may not open it (group root)\n      fix: usermod -aG root nobody"), r.stdout)
        XCTAssertTrue(r.stdout.contains("ok    buses[1].device (b) \(openPort): read+write as nobody"), r.stdout)
        XCTAssertTrue(r.stdout.contains("FAIL  buses[2].device (c) \(dir)/ttyUSB7: does not exist"), r.stdout)
        // Open to all, but a device the unit's DevicePolicy=closed does not let through.
        XCTAssertTrue(r.stdout.contains("FAIL  buses[3].device (d) /dev/null: not in the unit's DeviceAllow= (driver mem)\n"
                                        + "      fix: the unit's DevicePolicy=closed keeps it out: `systemctl edit vigil` and add [Service] DeviceAllow=char-mem rw"), r.stdout)
        XCTAssertTrue(r.stdout.contains("FAIL  uplink.token_file \(token): nobody may not open it (group root)\n      fix: chgrp nogroup \(token) && chmod 640 \(token)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("FAIL  gateway.state_dir \(dir)/state: read-only under the unit's sandbox"), r.stdout)
        XCTAssertTrue(r.stderr.contains("5 thing(s) the service user nobody cannot use"), r.stderr)

        // The advised fix, done: the token is readable by the user's group and no one else.
        chown(token, 0, getgrnam("nogroup").pointee.gr_gid)
        chmod(token, 0o640)
        let fixed = try runCommand(Repo.vigil, ["config", "check", config, "--as-service", "--user", "nobody"])
        XCTAssertTrue(fixed.stdout.contains("ok    uplink.token_file \(token): read as nobody"), fixed.stdout)
        // Root got its identity back after each try: the same check as root passes what root may.
        XCTAssertTrue(fixed.stderr.contains("4 thing(s)"), fixed.stderr)
    }

    func testAnUnknownUserIsAClearError() throws {
        let r = try runCommand(Repo.vigil, ["config", "check", Repo.path("Examples/demo.json5"), "--as-service", "--user", "no-such-user-here"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("there is no user no-such-user-here on this machine"), r.stderr)
    }
}

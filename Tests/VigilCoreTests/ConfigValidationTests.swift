import XCTest
@testable import VigilCore
import VigilTestSupport

/// One test per kind of config error, checking the message an installer sees.
final class ConfigValidationTests: XCTestCase {
    let loader = ConfigLoader(profiles: ProfileLibrary(directories: [Repo.path("Profiles")]), environment: .system(machineIDFile: "/nonexistent"))

    func errors(_ text: String) -> [String] {
        switch loader.parse(text, file: "vigil.json5") {
        case .success: return []
        case .failure(let e): return e.issues.map(\.description)
        }
    }

    func config(_ text: String) throws -> VigilConfig {
        switch loader.parse(text, file: "vigil.json5") {
        case .success(let c): return c
        case .failure(let e): throw e
        }
    }

    func wrap(buses: String = "{ id: 'line1', kind: 'tcp', host: '127.0.0.1' }", devices: String) -> String {
        "{\n  gateway: { id: 'gw1' },\n  buses: [\(buses)],\n  devices: [\n\(devices)\n  ],\n}"
    }

    func testValidConfigAppliesDefaults() throws {
        let c = try config(wrap(devices: "{ id: 'd1', bus: 'line1', unit: 1, points: [{ id: 'p', table: 'holding', address: 3 }] }"))
        XCTAssertEqual(c.gateway.stateDir, "/var/lib/vigil")
        XCTAssertEqual(c.buses[0].transport, .tcp(host: "127.0.0.1", port: 502))
        XCTAssertEqual(c.buses[0].maxRegisters, 125)
        XCTAssertEqual(c.devices[0].intervalMs, 1000)
        XCTAssertEqual(c.devices[0].maxGap, 8)
        XCTAssertEqual(c.devices[0].points[0].type, .uint16)
    }

    func testAddressOutOfRangeNamesFileLinePathAndRange() {
        let e = errors(wrap(devices: "    { id: 'd1', bus: 'line1', unit: 1, points: [{ id: 'p', table: 'holding', address: 70000 }] }"))
        XCTAssertEqual(e, ["vigil.json5:5:87: devices[0].points[0].address: 70000 is outside 0…65535"])
    }

    func testUnknownKeyGetsDidYouMean() {
        let e = errors(wrap(devices: "{ id: 'd1', bus: 'line1', unit: 1, intervall_ms: 500, points: [{ id: 'p', table: 'holding', address: 1 }] }"))
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e[0].contains("devices[0].intervall_ms: unknown key; did you mean \"interval_ms\"?"), e[0])
    }

    func testEveryErrorIsReportedNotJustTheFirst() {
        let e = errors(wrap(devices: """
            { id: 'd1', bus: 'nope', unit: 300, points: [{ id: 'p', table: 'holding', address: 1 }] },
            { id: 'd2', bus: 'line1', unit: 1, points: [{ id: 'p', table: 'holdings', address: 1 }] },
        """))
        XCTAssertEqual(e.count, 3, e.joined(separator: "\n"))
        XCTAssertTrue(e.contains { $0.contains("devices[0].bus: no bus has the id \"nope\"") })
        XCTAssertTrue(e.contains { $0.contains("devices[0].unit: 300 is outside 1…247") })
        XCTAssertTrue(e.contains { $0.contains("devices[1].points[0].table: \"holdings\" is not one of coil, discrete, holding, input; did you mean \"holding\"?") })
    }

    func testDuplicateIDs() {
        let e = errors(wrap(devices: """
            { id: 'd1', bus: 'line1', unit: 1, points: [{ id: 'p', table: 'holding', address: 1 }, { id: 'p', table: 'holding', address: 2 }] },
            { id: 'd1', bus: 'line1', unit: 2, points: [{ id: 'q', table: 'holding', address: 1 }] },
        """))
        XCTAssertTrue(e.contains { $0.contains("devices[0].points[1].id: duplicate point id \"p\"") }, e.joined(separator: "\n"))
        XCTAssertTrue(e.contains { $0.contains("devices[1].id: duplicate device id \"d1\"") }, e.joined(separator: "\n"))
    }

    func testDeviceOnMissingBusSuggestsTheClosest() {
        let e = errors(wrap(devices: "{ id: 'd1', bus: 'lin1', unit: 1, points: [{ id: 'p', table: 'holding', address: 1 }] }"))
        XCTAssertTrue(e[0].hasSuffix("devices[0].bus: no bus has the id \"lin1\"; did you mean \"line1\"?"), e[0])
    }

    func testUnknownProfile() {
        let e = errors(wrap(devices: "{ id: 'd1', bus: 'line1', unit: 1, profile: 'honeywell-xnz' }"))
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e[0].contains("devices[0].profile: unknown profile \"honeywell-xnz\"; did you mean \"honeywell-xnx\"?"), e[0])
    }

    func testPointWiderThanOneRequest() {
        let e = errors(wrap(devices: "{ id: 'd1', bus: 'line1', unit: 1, points: [{ id: 's', table: 'holding', address: 0, type: 'string', length: 126 }] }"))
        XCTAssertTrue(e[0].contains("devices[0].points[0].length: a point 126 registers wide cannot be read in one request (at most 125)"), e[0])
    }

    func testPointWiderThanTheBusAllows() {
        let e = errors(wrap(buses: "{ id: 'line1', kind: 'tcp', host: 'h', max_registers: 2 }",
                            devices: "{ id: 'd1', bus: 'line1', unit: 1, points: [{ id: 'x', table: 'holding', address: 0, type: 'float64' }] }"))
        XCTAssertTrue(e[0].contains("point \"x\" is 4 registers wide, more than bus \"line1\" allows per request (max_registers 2)"), e[0])
    }

    func testManualRegisterNumbering() throws {
        let c = try config(wrap(devices: """
            { id: 'd1', bus: 'line1', unit: 1, points: [
              { id: 'h', register: 40003, type: 'float32' }, { id: 'i', register: 30001 },
              { id: 'd', register: 10005 }, { id: 'c', register: 7 }, { id: 'x', register: 400100 },
            ] }
        """))
        let p = c.devices[0].points
        XCTAssertEqual(p.map(\.table), [.holding, .input, .discrete, .coil, .holding])
        XCTAssertEqual(p.map(\.address), [2, 0, 4, 6, 99])
        XCTAssertEqual(p[2].type, .bool)
    }

    func testManualRegisterDisagreeingWithTable() {
        let e = errors(wrap(devices: "{ id: 'd1', bus: 'line1', unit: 1, points: [{ id: 'p', table: 'input', register: 40001 }] }"))
        XCTAssertTrue(e[0].contains("points[0].table: \"input\" disagrees with register 40001, which is a holding register"), e[0])
    }

    func testTypeRules() {
        let e = errors(wrap(devices: """
            { id: 'd1', bus: 'line1', unit: 1, points: [
              { id: 'a', table: 'coil', address: 0, type: 'int16' },
              { id: 'b', table: 'holding', address: 0, type: 'bool' },
              { id: 'c', table: 'holding', address: 0, type: 'string' },
              { id: 'd', table: 'holding', address: 0, type: 'uint16', order: 'cdab' },
              { id: 'e', table: 'holding', address: 0, type: 'int16', bit: 3 },
            ] }
        """))
        let text = e.joined(separator: "\n")
        XCTAssertTrue(text.contains("points[0].type: a coil is a single bit: the type must be bool"), text)
        XCTAssertTrue(text.contains("points[1].type: a bool in a holding register needs \"bit\" (0–15)"), text)
        XCTAssertTrue(text.contains("points[2].length: is required for strings"), text)
        XCTAssertTrue(text.contains("points[3].order: applies only to values of 2 or 4 registers, not uint16"), text)
        XCTAssertTrue(text.contains("points[4].bit: \"bit\" needs type bool, not int16"), text)
    }

    func testDecimalsFromMustNameAnIntegerPoint() {
        let e = errors(wrap(devices: """
            { id: 'd1', bus: 'line1', unit: 1, points: [
              { id: 'level', table: 'holding', address: 4, type: 'int16', decimals_from: 'decimal' },
              { id: 'decimals', table: 'holding', address: 3 },
            ] }
        """))
        XCTAssertTrue(e[0].contains("points[0].decimals_from: no point has the id \"decimal\"; did you mean \"decimals\"?"), e.joined())
    }

    func testBusKeysOfTheOtherKindAreErrors() {
        let e = errors(wrap(buses: "{ id: 'line1', kind: 'tcp', host: 'h', baud: 9600 }",
                            devices: "{ id: 'd1', bus: 'line1', unit: 1, points: [{ id: 'p', table: 'holding', address: 1 }] }"))
        XCTAssertTrue(e[0].contains("buses[0].baud: applies only to rtu buses"), e[0])
    }

    func testABaudRateTheDriverDoesNotHaveIsAnError() {
        let e = errors(wrap(buses: "{ id: 'line1', kind: 'rtu', device: '/dev/ttyUSB0', baud: 9601 }",
                            devices: "{ id: 'd1', bus: 'line1', unit: 1, points: [{ id: 'p', table: 'holding', address: 1 }] }"))
        XCTAssertTrue(e[0].contains("buses[0].baud: 9601 is not a rate the serial driver has (libmodbus would quietly use 9600); did you mean 9600?"), e[0])
    }

    func testRTUDefaultsAndGap() throws {
        let c = try config(wrap(buses: "{ id: 'line1', kind: 'rtu', device: '/dev/ttyUSB0', baud: 9600, parity: 'even' }",
                                devices: "{ id: 'd1', bus: 'line1', unit: 1, points: [{ id: 'p', table: 'holding', address: 1 }] }"))
        guard case .rtu(let s) = c.buses[0].transport else { return XCTFail() }
        XCTAssertEqual(s.dataBits, 8); XCTAssertEqual(s.stopBits, 1)
        XCTAssertEqual(s.gapMs, 3.5 * 11 * 1000 / 9600, accuracy: 1e-9) // 11 bits a character with parity
        XCTAssertEqual(SerialSettings.defaultGapMs(baud: 38400, parity: .none, dataBits: 8, stopBits: 1), 1.75)
    }

    func testUnitZeroOnlyOnTCP() {
        let e = errors(wrap(buses: "{ id: 'line1', kind: 'rtu', device: '/dev/ttyS1' }",
                            devices: "{ id: 'd1', bus: 'line1', unit: 0, points: [{ id: 'p', table: 'holding', address: 1 }] }"))
        XCTAssertTrue(e[0].contains("devices[0].unit: 0 is outside 1…247"), e[0])
    }

    func testARTUOverTCPBusIsTheDeviceServersAddressAndTheLinesGap() throws {
        let point = "points: [{ id: 'p', table: 'holding', address: 1 }]"
        let c = try config(wrap(buses: "{ id: 'dtu', kind: 'rtu-over-tcp', host: '10.0.0.9', port: 4001, timeout_ms: 1500 }",
                                devices: "{ id: 'd1', bus: 'dtu', unit: 12, \(point) }"))
        XCTAssertEqual(c.buses[0].transport, .rtuOverTCP(host: "10.0.0.9", port: 4001, gapMs: BusTransport.deviceServerDefaultGapMs))
        XCTAssertEqual(c.buses[0].gapMs, 3.5 * 10 * 1000 / 9600, accuracy: 1e-9, "9600 8N1 behind the server unless gap_ms says otherwise")
        XCTAssertEqual(c.buses[0].timeoutMs, 1500)
        let gap = try config(wrap(buses: "{ id: 'dtu', kind: 'rtu-over-tcp', host: 'h', port: 8899, gap_ms: 50 }",
                                  devices: "{ id: 'd1', bus: 'dtu', unit: 1, \(point) }"))
        XCTAssertEqual(gap.buses[0].gapMs, 50)
        // The serial settings live in the device server; no port is the default; RTU unit ids.
        let e = errors(wrap(buses: "{ id: 'dtu', kind: 'rtu-over-tcp', host: 'h', baud: 9600 }",
                            devices: "{ id: 'd1', bus: 'dtu', unit: 1, \(point) }"))
        XCTAssertTrue(e.contains { $0.contains("buses[0].baud: applies only to rtu buses (the serial settings live in the device server)") }, e.joined())
        XCTAssertTrue(e.contains { $0.contains("buses[0].port: is required") }, e.joined())
        let unit = errors(wrap(buses: "{ id: 'dtu', kind: 'rtu-over-tcp', host: 'h', port: 4001 }",
                               devices: "{ id: 'd1', bus: 'dtu', unit: 0, \(point) }"))
        XCTAssertTrue(unit[0].contains("devices[0].unit: 0 is outside 1…247"), unit[0])
        // One device server is one serial line: one owner.
        let twice = errors(wrap(buses: "{ id: 'a', kind: 'rtu-over-tcp', host: 'h', port: 4001 }, { id: 'b', kind: 'rtu-over-tcp', host: 'h', port: 4001 }",
                                devices: "{ id: 'd1', bus: 'a', unit: 1, \(point) }"))
        XCTAssertTrue(twice[0].contains("buses[1].host: h:4001 is already the line of bus \"a\""), twice[0])
    }

    func testTwoBusesOnOneSerialLine() {
        let e = errors(wrap(buses: "{ id: 'a', kind: 'rtu', device: '/dev/ttyS1' }, { id: 'b', kind: 'rtu', device: '/dev/ttyS1' }",
                            devices: "{ id: 'd1', bus: 'a', unit: 1, points: [{ id: 'p', table: 'holding', address: 1 }] }"))
        XCTAssertTrue(e[0].contains("buses[1].device: /dev/ttyS1 is already the line of bus \"a\""), e[0])
    }

    func testTwoDevicesWithOneUnitOnOneBus() {
        let e = errors(wrap(devices: """
            { id: 'd1', bus: 'line1', unit: 5, points: [{ id: 'p', table: 'holding', address: 1 }] },
            { id: 'd2', bus: 'line1', unit: 5, points: [{ id: 'p', table: 'holding', address: 1 }] },
        """))
        XCTAssertTrue(e[0].contains("devices[1].unit: unit 5 on bus \"line1\" is already device \"d1\""), e[0])
    }

    func testMissingRequiredKeysAndWrongKinds() {
        let e = errors("{ gateway: { id: 'g' }, buses: {}, devices: [{ bus: 'x' }] }")
        let text = e.joined(separator: "\n")
        XCTAssertTrue(text.contains("buses: expected an array, found an object"), text)
        XCTAssertTrue(text.contains("devices[0].id: is required (a string)"), text)
        XCTAssertTrue(text.contains("devices[0].unit: is required"), text)
    }

    func testSyntaxErrorIsReportedWithItsPosition() {
        XCTAssertEqual(errors("{\n  gateway: { id: 'g' }\n  buses: [],\n}"), ["vigil.json5:3:3: expected ',' or '}'"])
    }

    func testGatewayIDFallsBackToMachineID() throws {
        let dir = temporaryDirectory()
        let idFile = "\(dir)/machine-id"
        try "0123456789abcdef\n".write(toFile: idFile, atomically: true, encoding: .utf8)
        let loader = ConfigLoader(profiles: self.loader.profiles, environment: .system(machineIDFile: idFile))
        guard case .success(let c) = loader.parse("{ buses: [], devices: [] }", file: "x.json5") else { return XCTFail() }
        XCTAssertEqual(c.gateway.id, "0123456789abcdef")
    }

    func testProfileWithInlineOverride() throws {
        let c = try config(wrap(devices: """
            { id: 'gas', bus: 'line1', unit: 1, profile: 'honeywell-xnx', points: [
              { id: 'gas', register: 40003, type: 'float32', order: 'cdab', unit: 'ppm' },
            ] }
        """))
        let points = c.devices[0].points
        XCTAssertEqual(points.filter { $0.id == "gas" }.count, 1)
        XCTAssertEqual(points.first { $0.id == "gas" }?.order, .cdab)
        XCTAssertTrue(points.contains { $0.id == "alarm1" })
    }

    func testProfileErrorsNameTheProfileFile() throws {
        let dir = temporaryDirectory()
        try "{ model: 'm', manufacturer: 'x', source: 's', kind: 'smoke', primary: 'a', points: [{ id: 'a', register: 40001, type: 'bool' }] }"
            .write(toFile: "\(dir)/broken.json5", atomically: true, encoding: .utf8)
        let loader = ConfigLoader(profiles: ProfileLibrary(directories: [dir]), environment: .system(machineIDFile: "/nonexistent"))
        guard case .failure(let e) = loader.parse(wrap(devices: "{ id: 'd1', bus: 'line1', unit: 1, profile: 'broken' }"), file: "vigil.json5") else { return XCTFail() }
        let text = e.description
        XCTAssertTrue(text.contains("\(dir)/broken.json5:1:119: points[0].type: a bool in a holding register needs \"bit\""), text)
        XCTAssertTrue(text.contains("devices[0].profile: profile \"broken\""), text)
    }
}

final class UplinkConfigTests: XCTestCase {
    let loader = ConfigLoader(profiles: ProfileLibrary(directories: [Repo.path("Profiles")]), environment: .system(machineIDFile: "/nonexistent"))

    func parse(_ uplink: String) -> Result<VigilConfig, ConfigErrors> {
        loader.parse("{ gateway: { id: 'g' }, buses: [], devices: [], uplink: \(uplink) }", file: "vigil.json5")
    }

    /// Parsing asks the machine nothing itself: the machine id and the files' modes come in.
    func testParsingIsAFunctionOfTextAndEnvironment() throws {
        let modes: [String: UInt32] = ["/etc/vigil/token": 0o100644, "/etc/vigil/ok-token": 0o100640]
        let loader = ConfigLoader(profiles: ProfileLibrary(directories: []),
                                  environment: ConfigEnvironment(machineID: "4c4c4544", fileMode: { modes[$0] }))
        let text = "{ buses: [], devices: [], uplink: { kind: 'http', url: 'https://up.example', token_file: '%@' } }"
        let ok = try loader.parse(text.replacingOccurrences(of: "%@", with: "/etc/vigil/ok-token"), file: "vigil.json5").get()
        XCTAssertEqual(ok.gateway.id, "4c4c4544", "the machine id given, not this machine's")
        guard case .failure(let e) = loader.parse(text.replacingOccurrences(of: "%@", with: "/etc/vigil/token"), file: "vigil.json5") else { return XCTFail() }
        XCTAssertTrue(e.description.contains("uplink.token_file: /etc/vigil/token is readable by every user (mode 644)"), e.description)
        guard case .failure(let missing) = loader.parse(text.replacingOccurrences(of: "%@", with: "/etc/vigil/gone"), file: "vigil.json5") else { return XCTFail() }
        XCTAssertTrue(missing.description.contains("uplink.token_file: /etc/vigil/gone does not exist"), missing.description)
        let noID = ConfigLoader(profiles: ProfileLibrary(directories: []), environment: ConfigEnvironment(machineID: nil, machineIDSource: "/etc/machine-id", fileMode: { _ in nil }))
        guard case .failure(let anonymous) = noID.parse("{ buses: [], devices: [] }", file: "vigil.json5") else { return XCTFail() }
        XCTAssertTrue(anonymous.description.contains("gateway.id: is not set and /etc/machine-id cannot be read"), anonymous.description)
    }

    func testAWorldReadableTokenFileIsRefused() throws {
        let token = temporaryDirectory() + "/token"
        try "secret".write(toFile: token, atomically: true, encoding: .utf8)
        chmod(token, 0o644)
        guard case .failure(let e) = parse("{ kind: 'http', url: 'https://up.example', token_file: '\(token)' }") else { return XCTFail() }
        XCTAssertTrue(e.description.contains("uplink.token_file: \(token) is readable by every user (mode 644); let only root and the service read it: chgrp vigil \(token) && chmod 640 \(token)"), e.description)
        chmod(token, 0o600)
        guard case .success(let c) = parse("{ kind: 'http', url: 'https://up.example', token_file: '\(token)' }") else { return XCTFail() }
        guard case .http(let spec) = c.uplink else { return XCTFail() }
        XCTAssertEqual(spec.batching.batchMaxRecords, 500)
        XCTAssertEqual(spec.batching.flushMs, 1000)
        XCTAssertTrue(spec.gzip)
        XCTAssertEqual(spec.batching.heartbeatSeconds, 60)
    }

    func testUplinkAndJournalMistakes() {
        guard case .failure(let e) = parse("{ kind: 'http', url: 'ftp://x', batch_max_records: 0, client_cert: '/nope' }") else { return XCTFail() }
        let text = e.description
        XCTAssertTrue(text.contains("uplink.url: \"ftp://x\" must start with https://"), text)
        XCTAssertTrue(text.contains("uplink.batch_max_records: 0 is outside 1…100000"), text)
        XCTAssertTrue(text.contains("uplink.client_key: is required with client_cert"), text)
        XCTAssertTrue(text.contains("uplink.client_cert: /nope does not exist"), text)
        guard case .failure(let s) = parse("{ kind: 'stdout', url: 'https://x' }") else { return XCTFail() }
        XCTAssertTrue(s.description.contains("uplink.url: applies only to uplinks that leave the gateway"), s.description)
    }

    func hj212(_ uplink: String, password: String) -> Result<VigilConfig, ConfigErrors> {
        loader.parse("""
            { gateway: { id: 'g' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }],
              devices: [{ id: 'gas-1', bus: 'b', unit: 1, points: [{ id: 'gas', register: 40003, type: 'float32' },
                                                                   { id: 'status', register: 40005 }] },
                        { id: 'gas-2', bus: 'b', unit: 2, points: [{ id: 'gas', register: 40003, type: 'float32' }] }],
              uplink: { kind: 'hj212', password_file: '\(password)', \(uplink) } }
            """, file: "vigil.json5")
    }

    func testAnHJ212Uplink() throws {
        let password = temporaryDirectory() + "/pw"
        try "123456".write(toFile: password, atomically: true, encoding: .utf8)
        chmod(password, 0o600)
        guard case .success(let c) = hj212("url: 'tcp://platform.example.cn:9000', st: 31, mn: 'MN01', device_mn: { 'gas-2': 'MN02' }, codes: { gas: 'a21026' }, utc_offset: '+05:30', minute_data: 10, hour_data: true",
                                           password: password),
              case .hj212(let spec) = c.uplink else { return XCTFail() }
        XCTAssertEqual(spec.host, "platform.example.cn")
        XCTAssertEqual(spec.port, 9000)
        XCTAssertEqual(spec.systemCode, "31")
        XCTAssertEqual(spec.code(device: "gas-2", point: "gas"), "a21026")
        XCTAssertEqual(spec.deviceMN, ["gas-2": "MN02"])
        XCTAssertEqual(spec.utcOffsetMinutes, 330)
        XCTAssertTrue(spec.alarmEvents)
        XCTAssertEqual(spec.intervals, [.minutes(10), .hour])
        XCTAssertEqual(c.warnings, ["vigil.json5: uplink.codes: device gas-1: status has no HJ 212 factor code and is not sent upstream (alarms on it still act locally)"])

        guard case .failure(let e) = hj212("url: 'http://x', st: 5, mn: 'A;B', codes: { gas: 'a-1', 'gas-3/gas': 'a1' }, format: 'vigil', gzip: true, minute_data: 7", password: password)
        else { return XCTFail() }
        let text = e.description
        XCTAssertTrue(text.contains("uplink.url: \"http://x\" must be tcp://HOST:PORT"), text)
        XCTAssertTrue(text.contains("uplink.st: 5 is outside 10…99"), text)
        XCTAssertTrue(text.contains("uplink.mn: \"A;B\" must not contain ; , = & or a line break"), text)
        XCTAssertTrue(text.contains("uplink.codes.gas: expected a factor code of letters and digits"), text)
        XCTAssertTrue(text.contains("uplink.codes.gas-3/gas: no point \"gas-3/gas\""), text)
        XCTAssertTrue(text.contains("uplink.format: does not apply to hj212 uplinks"), text)
        XCTAssertTrue(text.contains("uplink.gzip: does not apply to hj212 uplinks"), text)
        XCTAssertTrue(text.contains("uplink.minute_data: 7 must divide the hour: 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60"), text)

        guard case .failure(let same) = hj212("url: 'tcp://p:1', st: 31, mn: 'MN01', codes: { gas: 'a21026' }", password: password) else { return XCTFail() }
        XCTAssertTrue(same.description.contains("uplink.codes: gas-1/gas and gas-2/gas both send a21026 under MN MN01"), same.description)
        guard case .failure(let missing) = hj212("url: 'tcp://p:1', codes: {}", password: password) else { return XCTFail() }
        XCTAssertTrue(missing.description.contains("uplink.mn: is required"), missing.description)
        XCTAssertTrue(missing.description.contains("uplink.st: is required"), missing.description)
    }

    func testAnAlinkUplink() throws {
        let secret = temporaryDirectory() + "/secret"
        try "s3cr3t".write(toFile: secret, atomically: true, encoding: .utf8)
        chmod(secret, 0o600)
        guard case .success(let c) = parse("{ kind: 'mqtt', format: 'alink', url: 'mqtts://iot-06z.mqtt.iothub.aliyuncs.com', product_key: 'a1B2c3', device_name: 'gw-07', device_secret_file: '\(secret)' }"),
              case .mqtt(let spec) = c.uplink else { return XCTFail() }
        XCTAssertEqual(spec.format, .alink)
        XCTAssertEqual(spec.protocolVersion, .v311, "Alibaba's public instances speak 3.1.1")
        XCTAssertEqual(spec.productKey, "a1B2c3")
        XCTAssertEqual(spec.deviceSecretFile, secret)

        chmod(secret, 0o644)
        guard case .failure(let e) = parse("{ kind: 'mqtt', format: 'alink', url: 'mqtts://x', product_key: 'a b', username: 'u', device_secret_file: '\(secret)' }") else { return XCTFail() }
        let text = e.description
        XCTAssertTrue(text.contains("uplink.device_name: is required"), text)
        XCTAssertTrue(text.contains("uplink.product_key: \"a b\" must be what the Alibaba Cloud IoT console shows"), text)
        XCTAssertTrue(text.contains("uplink.username: does not apply to format alink"), text)
        XCTAssertTrue(text.contains("uplink.device_secret_file: \(secret) is readable by every user"), text)
        guard case .failure(let other) = parse("{ kind: 'mqtt', url: 'mqtts://x', product_key: 'a1' }") else { return XCTFail() }
        XCTAssertTrue(other.description.contains("uplink.product_key: applies only to format alink, not vigil"), other.description)
        let withCloud = "{ gateway: { id: 'g' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }], devices: [{ id: 'gas-1', bus: 'b', unit: 1, points: [{ id: 'gas', register: 40003 }], cloud: { product_key: 'k9', device_name: 'pump gas', device_secret_file: '\(secret)' } }]"
        guard case .failure(let cloud) = loader.parse(withCloud + ", uplink: { kind: 'http', url: 'https://x' } }", file: "vigil.json5") else { return XCTFail() }
        XCTAssertTrue(cloud.description.contains("devices[0].cloud: a device's own cloud identity needs the uplink { kind: \"mqtt\", format: \"alink\" }"), cloud.description)
        XCTAssertTrue(cloud.description.contains("devices[0].cloud.device_name: \"pump gas\" must be what the Alibaba Cloud IoT console shows"), cloud.description)
        XCTAssertTrue(cloud.description.contains("devices[0].cloud.device_secret_file: \(secret) is readable by every user"), cloud.description)
        guard case .failure(let http) = parse("{ kind: 'http', format: 'alink', url: 'https://x' }") else { return XCTFail() }
        XCTAssertTrue(http.description.contains("\"alink\" cannot be carried by a http uplink"), http.description)
    }

    func testAOneNETUplink() throws {
        let key = temporaryDirectory() + "/key"
        try "s6W5Qf29VVc1gaUfA5VBt+XZbyPBC/Wpk7Ntf7vNE0E=".write(toFile: key, atomically: true, encoding: .utf8)
        chmod(key, 0o600)
        guard case .success(let c) = parse("{ kind: 'mqtt', format: 'onenet', url: 'mqtts://mqttstls.heclouds.com:8883', product_id: '8q4Ad1z2jn', device_name: 'gw-07', device_secret_file: '\(key)' }"),
              case .mqtt(let spec) = c.uplink else { return XCTFail() }
        XCTAssertEqual(spec.format, .onenet)
        XCTAssertEqual(spec.protocolVersion, .v311, "OneNET speaks 3.1.1")
        XCTAssertEqual(spec.productID, "8q4Ad1z2jn")
        XCTAssertEqual(spec.deviceName, "gw-07")
        XCTAssertEqual(spec.tokenMethod, .sha256)

        guard case .failure(let e) = parse("{ kind: 'mqtt', format: 'onenet', url: 'mqtts://x', product_id: 'a/b', token_method: 'sha512', password_file: '\(key)', product_key: 'k', device_secret_file: '\(key)' }") else { return XCTFail() }
        let text = e.description
        XCTAssertTrue(text.contains("uplink.device_name: is required"), text)
        XCTAssertTrue(text.contains("uplink.product_id: \"a/b\" must be what the OneNET console shows"), text)
        XCTAssertTrue(text.contains("uplink.token_method: \"sha512\" is not one of md5, sha1, sha256"), text)
        XCTAssertTrue(text.contains("uplink.password_file: does not apply to format onenet"), text)
        XCTAssertTrue(text.contains("uplink.product_key: applies only to format alink; OneNET's is product_id"), text)
        guard case .failure(let other) = parse("{ kind: 'mqtt', format: 'alink', url: 'mqtts://x', product_key: 'a1', device_name: 'd', device_secret_file: '\(key)', product_id: 'p' }") else { return XCTFail() }
        XCTAssertTrue(other.description.contains("uplink.product_id: applies only to format onenet, not alink"), other.description)
    }

    func testPointsThatWouldBeOneAlinkOrOneNETPropertyAreRefused() throws {
        let key = temporaryDirectory() + "/key"
        try "c2VjcmV0".write(toFile: key, atomically: true, encoding: .utf8)
        chmod(key, 0o600)
        let devices = "[{ id: 'gas-1', bus: 'b', unit: 1, points: [{ id: 'gas', register: 40003, type: 'float32' }] }, { id: 'gas.1', bus: 'b', unit: 2, points: [{ id: 'gas', register: 40003, type: 'float32' }] }]"
        for uplink in ["format: 'alink', product_key: 'a1', device_name: 'gw'", "format: 'onenet', product_id: 'p1', device_name: 'gw'"] {
            guard case .failure(let e) = loader.parse("{ gateway: { id: 'g' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }], devices: \(devices), uplink: { kind: 'mqtt', url: 'mqtts://x', device_secret_file: '\(key)', \(uplink) } }", file: "vigil.json5") else { return XCTFail(uplink) }
            XCTAssertTrue(e.description.contains("devices[1].points: point gas.1/gas would be Alink/OneNET property gas_1_gas, as gas-1/gas is"), e.description)
        }
        guard case .success = loader.parse("{ gateway: { id: 'g' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }], devices: \(devices), uplink: { kind: 'mqtt', url: 'mqtt://x', format: 'thingsboard', token_file: '\(key)' } }", file: "vigil.json5") else {
            return XCTFail("other formats keep the ids apart")
        }
    }

    func testAnIoTDAUplink() throws {
        let secret = temporaryDirectory() + "/secret"
        try "s3cr3t".write(toFile: secret, atomically: true, encoding: .utf8)
        chmod(secret, 0o600)
        let devices = "[{ id: 'gas-1', bus: 'b', unit: 1, points: [{ id: 'gas', register: 40003, type: 'float32' }] }, { id: 'gas-2', bus: 'b', unit: 2, points: [{ id: 'gas', register: 40003, type: 'float32' }] }]"
        func iotda(_ uplink: String) -> Result<VigilConfig, ConfigErrors> {
            loader.parse("{ gateway: { id: 'g' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }], devices: \(devices), uplink: { kind: 'mqtt', format: 'iotda', url: 'mqtts://x', device_secret_file: '\(secret)', \(uplink) } }", file: "vigil.json5")
        }
        guard case .success(let c) = iotda("device_id: 'p1_gw', child_product_id: 'p1', child_ids: { 'gas-2': 'p1_pump' }, service_id: 'gas'"),
              case .mqtt(let spec) = c.uplink else { return XCTFail() }
        XCTAssertEqual(spec.format, .iotda)
        XCTAssertEqual(spec.deviceID, "p1_gw")
        XCTAssertEqual(spec.childIDs, ["gas-2": "p1_pump"])
        XCTAssertEqual(spec.serviceID, "gas")
        guard case .failure(let e) = iotda("device_id: 'p1 gw', child_ids: { 'gas-1': 'p1_a', 'gas-9': 'x' }, username: 'u', group_id: 'g'") else { return XCTFail() }
        let text = e.description
        XCTAssertTrue(text.contains("uplink.device_id: \"p1 gw\" must be an IoTDA device id"), text)
        XCTAssertTrue(text.contains("uplink.child_ids.gas-9: no device \"gas-9\" in devices[]"), text)
        XCTAssertTrue(text.contains("uplink.child_ids: no IoTDA device id for gas-2: give child_product_id"), text)
        XCTAssertTrue(text.contains("uplink.username: does not apply to format iotda"), text)
        XCTAssertTrue(text.contains("uplink.group_id: applies only to format sparkplug-b, not iotda"), text)
        guard case .failure(let other) = parse("{ kind: 'mqtt', url: 'mqtts://x', child_ids: {} }") else { return XCTFail() }
        XCTAssertTrue(other.description.contains("uplink.child_ids: applies only to format iotda, not vigil"), other.description)
    }

    func testRawRegistersCanStayOnTheGateway() throws {
        for uplink in ["{ kind: 'http', url: 'https://x', send_raw: false }", "{ kind: 'mqtt', url: 'mqtts://x', send_raw: false }"] {
            guard case .success(let c) = parse(uplink) else { return XCTFail(uplink) }
            switch c.uplink {
            case .http(let spec): XCTAssertFalse(spec.sendRaw)
            case .mqtt(let spec): XCTAssertFalse(spec.sendRaw)
            default: XCTFail(uplink)
            }
        }
        guard case .success(let c) = parse("{ kind: 'http', url: 'https://x' }"), case .http(let spec) = c.uplink else { return XCTFail() }
        XCTAssertTrue(spec.sendRaw, "raw goes by default")
        guard case .failure(let e) = parse("{ kind: 'mqtt', url: 'mqtts://x', format: 'thingsboard', token_file: '/nope', send_raw: false }") else { return XCTFail() }
        XCTAssertTrue(e.description.contains("uplink.send_raw: applies only to format vigil (thingsboard sends no raw registers)"), e.description)
        guard case .failure(let s) = parse("{ kind: 'stdout', send_raw: false }") else { return XCTFail() }
        XCTAssertTrue(s.description.contains("uplink.send_raw: applies only to uplinks that leave the gateway"), s.description)
    }

    func testAnMQTTUplink() throws {
        guard case .success(let c) = parse("{ kind: 'mqtt', url: 'mqtts://broker.example.net', username: 'gw-07', protocol: '3.1.1', topic_prefix: 'site/7' }"),
              case .mqtt(let spec) = c.uplink else { return XCTFail() }
        XCTAssertEqual(spec.host, "broker.example.net")
        XCTAssertEqual(spec.port, 8883, "mqtts defaults to 8883")
        XCTAssertTrue(spec.tls)
        XCTAssertEqual(spec.protocolVersion, .v311)
        XCTAssertEqual(spec.format, .vigil)
        XCTAssertEqual(spec.topicPrefix, "site/7")
        XCTAssertEqual(spec.batching.flushMs, 1000)
        XCTAssertFalse(spec.gzip, "gzip is off by default on MQTT")
        XCTAssertEqual(MQTTUplinkSpec.endpoint("mqtt://10.0.0.5")?.port, 1883)
        XCTAssertEqual(MQTTUplinkSpec.endpoint("mqtt://10.0.0.5:2883")?.port, 2883)
        XCTAssertNil(MQTTUplinkSpec.endpoint("mqtt://user:pw@10.0.0.5"), "credentials do not go in the url")
        XCTAssertNil(MQTTUplinkSpec.endpoint("mqtt://10.0.0.5:0"))
    }

    func testAThingsBoardUplinkTakesTheAccessTokenAndWriteGrants() throws {
        let token = temporaryDirectory() + "/tb-token"
        try "A1_TEST_TOKEN".write(toFile: token, atomically: true, encoding: .utf8)
        chmod(token, 0o640)
        let text = "{ gateway: { id: 'g' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }], "
            + "devices: [{ id: 'gas-1', bus: 'b', unit: 1, points: [{ id: 'gas', register: 40001, type: 'uint16' }] }], "
            + "uplink: { kind: 'mqtt', url: 'mqtt://tb.local', format: 'thingsboard', token_file: '\(token)', "
            + "commands: { allow_writes: ['gas-1/holding:40', 'gas-1/*'] } } }"
        guard case .success(let c) = loader.parse(text, file: "vigil.json5"), case .mqtt(let spec) = c.uplink else { return XCTFail() }
        XCTAssertEqual(spec.format, .thingsboard)
        XCTAssertEqual(spec.tokenFile, token)
        XCTAssertEqual(spec.commands.allowWrites.map(\.description), ["gas-1/holding:40", "gas-1/*"])

        let wrong = text.replacingOccurrences(of: "['gas-1/holding:40', 'gas-1/*']", with: "['gas-2/holding:40', 'gas-1/input:3', 7]")
        guard case .failure(let e) = loader.parse(wrong, file: "vigil.json5") else { return XCTFail() }
        XCTAssertTrue(e.description.contains("uplink.commands.allow_writes[0]: no device \"gas-2\" in devices[]; did you mean \"gas-1\"?"), e.description)
        XCTAssertTrue(e.description.contains("uplink.commands.allow_writes[1]: expected \"DEVICE/holding:ADDRESS\", \"DEVICE/coil:ADDRESS\" or \"DEVICE/*\""), e.description)
        XCTAssertTrue(e.description.contains("uplink.commands.allow_writes[2]: expected"), e.description)

        guard case .failure(let none) = parse("{ kind: 'mqtt', url: 'mqtt://tb.local', format: 'thingsboard' }") else { return XCTFail() }
        XCTAssertTrue(none.description.contains("uplink.token_file: format thingsboard needs the gateway device's access token"), none.description)
        guard case .failure(let http) = parse("{ kind: 'http', url: 'https://x', format: 'thingsboard' }") else { return XCTFail() }
        XCTAssertTrue(http.description.contains("uplink.format: \"thingsboard\" cannot be carried by a http uplink; it carries: vigil"), http.description)
    }

    func testASparkplugUplinkAndItsMistakes() throws {
        guard case .success(let c) = parse("{ kind: 'mqtt', url: 'mqtt://b', format: 'sparkplug-b', group_id: 'plant', primary_host_id: 'scada' }"),
              case .mqtt(let spec) = c.uplink else { return XCTFail() }
        XCTAssertEqual(spec.format, .sparkplugB)
        XCTAssertEqual(spec.groupID, "plant")
        XCTAssertNil(spec.edgeNodeID, "default: the gateway id")
        XCTAssertEqual(spec.primaryHostID, "scada")
        XCTAssertEqual(spec.qos, 0, "Sparkplug's data goes at QoS 0 unless asked")
        guard case .failure(let e) = parse("{ kind: 'mqtt', url: 'mqtt://b', format: 'sparkplug-b', edge_node_id: 'a/b', qos: 2 }") else { return XCTFail() }
        XCTAssertTrue(e.description.contains("uplink.group_id: is required"), e.description)
        XCTAssertTrue(e.description.contains("uplink.edge_node_id: \"a/b\" must be one topic level"), e.description)
        XCTAssertTrue(e.description.contains("uplink.qos: 2 is outside 0…1"), e.description)
        guard case .failure(let v) = parse("{ kind: 'mqtt', url: 'mqtt://b', group_id: 'g', commands: {} }") else { return XCTFail() }
        XCTAssertTrue(v.description.contains("uplink.group_id: applies only to format sparkplug-b, not vigil"), v.description)
        XCTAssertTrue(v.description.contains("uplink.commands: format vigil brings no commands down"), v.description)
    }

    func testMQTTMistakesAreNamed() throws {
        let password = temporaryDirectory() + "/password"
        try "secret".write(toFile: password, atomically: true, encoding: .utf8)
        chmod(password, 0o644)
        let uplink = "{ kind: 'mqtt', url: 'mqtt://user:pw@broker', qos: 0, token_file: '/x', password_file: '\(password)', "
            + "protocol: '4', ca_file: '/nope', topic_prefix: 'a/#' }"
        guard case .failure(let e) = parse(uplink) else { return XCTFail() }
        let text = e.description
        XCTAssertTrue(text.contains("uplink.url: \"mqtt://<redacted>@broker\" must be mqtts://HOST[:PORT]"), text)
        XCTAssertTrue(text.contains("uplink.qos: 0 is not supported: the journal forgets a batch only on the broker's PUBACK"), text)
        XCTAssertTrue(text.contains("uplink.token_file: on an MQTT uplink is a ThingsBoard access token (format: \"thingsboard\"); for format vigil give username and password_file"), text)
        XCTAssertTrue(text.contains("uplink.password_file: needs a username"), text)
        XCTAssertTrue(text.contains("uplink.password_file: \(password) is readable by every user (mode 644)"), text)
        XCTAssertTrue(text.contains("uplink.protocol:"), text)
        XCTAssertTrue(text.contains("uplink.ca_file: /nope does not exist"), text)
        XCTAssertTrue(text.contains("uplink.topic_prefix: \"a/#\" must not contain + or #"), text)
        XCTAssertFalse(text.contains(":pw@"), "no secret in an error")
        guard case .failure(let h) = parse("{ kind: 'http', url: 'https://x', topic_prefix: 'v' }") else { return XCTFail() }
        XCTAssertTrue(h.description.contains("uplink.topic_prefix: applies only to mqtt uplinks, not http"), h.description)
    }
}

final class AlarmStandardTests: XCTestCase {
    let loader = ConfigLoader(profiles: ProfileLibrary(directories: [Repo.path("Profiles")]), environment: .system(machineIDFile: "/nonexistent"))

    func parse(_ alarms: String) -> Result<VigilConfig, ConfigErrors> {
        loader.parse("""
            { gateway: { id: 'g' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }],
              devices: [{ id: 'gas-1', bus: 'b', unit: 1, profile: 'honeywell-xnx', points: [
                { id: 'gas', register: 40003, type: 'float32', unit: '%LEL', alarms: \(alarms) } ] }] }
            """, file: "vigil.json5")
    }

    func testGBT50493LimitsForCombustibleGas() throws {
        guard case .failure(let e) = parse("{ high: 30, highhigh: 60 }") else { return XCTFail("above the standard must be refused") }
        let text = e.description
        XCTAssertTrue(text.contains("devices[0].points[0].alarms.high: 30 %LEL is above GB/T 50493-2019's first alarm limit for combustible gas, 25 %LEL"), text)
        XCTAssertTrue(text.contains("alarms.highhigh: 60 %LEL is above GB/T 50493-2019's second alarm limit"), text)
        guard case .success(let ok) = parse("{ high: 20, highhigh: 40 }") else { return XCTFail() }
        XCTAssertTrue(ok.warnings.isEmpty)
        guard case .success(let allowed) = parse("{ high: 30, highhigh: 50, allow_above_standard: true }") else { return XCTFail() }
        XCTAssertEqual(allowed.warnings.count, 1)
        XCTAssertTrue(allowed.warnings[0].contains("alarms.high 30 %LEL is above"), allowed.warnings[0])
    }

    func testEveryShippedProfileDefaultIsWithinTheStandard() throws {
        for name in ProfileLibrary(directories: [Repo.path("Profiles")]).names() {
            let result = loader.parse("{ gateway: { id: 'g' }, buses: [{ id: 'b', kind: 'tcp', host: 'h' }], devices: [{ id: 'd', bus: 'b', unit: 1, profile: '\(name)' }] }", file: "x.json5")
            guard case .success(let config) = result else { XCTFail("\(name): \(result)"); continue }
            XCTAssertTrue(config.warnings.isEmpty, name)
        }
    }
}

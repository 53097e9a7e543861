// swift-tools-version:6.0
import Foundation
import PackageDescription

/// libgpiod 2 changed the whole API: VigilGPIO compiles its v2 backend when
/// pkg-config finds libgpiod 2 or later, its v1 backend otherwise (Debian 12
/// ships 1.6).
let libgpiodV2: Bool = {
    let check = Process()
    check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    check.arguments = ["pkg-config", "--atleast-version=2", "libgpiod"]
    check.standardOutput = FileHandle.nullDevice
    check.standardError = FileHandle.nullDevice
    guard (try? check.run()) != nil else { return false }
    check.waitUntilExit()
    return check.terminationStatus == 0
}()

let package = Package(
    name: "Vigil",
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
    ],
    targets: [
        // libmodbus from Debian (apt: libmodbus-dev). The shim re-exports the
        // error macros that Swift cannot import.
        .systemLibrary(
            name: "CModbus",
            pkgConfig: "libmodbus",
            providers: [.apt(["libmodbus-dev"])]
        ),
        // libcurl (apt: libcurl4-openssl-dev; libcurl4 at run time) for the HTTP(S) uplink:
        // its header from Debian as a system library, its functions loaded when an HTTP
        // uplink is made rather than linked (why: CCurlLoader.h).
        // No pkgConfig: its flags would link libcurl. The header is on the default path.
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CCurlLoader", dependencies: ["CCurl"], linkerSettings: [.linkedLibrary("dl")]),
        // libmosquitto (apt: libmosquitto-dev; libmosquitto1 at run time) for the MQTT
        // uplink: loaded, not linked, like libcurl (why: CMosquittoLoader.h).
        .systemLibrary(name: "CMosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .target(name: "CMosquittoLoader", dependencies: ["CMosquitto"], linkerSettings: [.linkedLibrary("dl")]),
        // libcrypto (its header from libssl-dev, which libcurl4-openssl-dev brings; libssl3 at
        // run time) for HMAC-SHA256 logins: loaded, not linked (why: CCryptoLoader.h).
        .target(name: "CCryptoLoader", linkerSettings: [.linkedLibrary("dl")]),
        // zlib (apt: zlib1g-dev) for gzip bodies.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // libgpiod v1 (apt: libgpiod-dev) for dry contacts and relays.
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        // Small C helpers for Linux calls Swift's Glibc module does not import.
        .target(name: "CLinuxShims"),
        // The CRC-32C instruction, the only C VigilCore needs (no Linux header).
        .target(name: "CCRC32C"),
        // Pure Swift: config, profiles, decoding, planning, scheduling, the journal. No hardware, no threads.
        .target(name: "VigilCore", dependencies: ["CCRC32C"]),
        // Dedicated threads for blocking C calls (named, joined with a deadline): never the concurrency pool.
        .target(name: "VigilThreads", dependencies: ["VigilCore", "CLinuxShims"]),
        // Typed wrapper over libmodbus (client and server).
        .target(name: "VigilModbus", dependencies: ["VigilCore", "CModbus"]),
        // GPIO lines behind a small protocol: libgpiod, or a fake for tests.
        .target(name: "VigilGPIO", dependencies: ["VigilCore", "CGPIOD"],
                swiftSettings: libgpiodV2 ? [.define("LIBGPIOD_V2")] : []),
        // Uplink transports: HTTP(S) (libcurl), MQTT (libmosquitto); gzip (zlib).
        .target(name: "VigilUplink", dependencies: ["VigilCore", "VigilThreads", "CCurlLoader", "CMosquittoLoader", "CCryptoLoader", "CZlib"]),
        // The running daemon: bus workers, sinks, the simulator.
        .target(name: "VigilAgent", dependencies: ["VigilCore", "VigilThreads", "VigilModbus", "VigilUplink", "VigilGPIO", "CLinuxShims"]),
        // Tools for installers and tests, not the daemon: the simulator and its Modbus server,
        // the reference receiver, the fake GPIO backend.
        .target(name: "VigilLab", dependencies: ["VigilCore", "VigilThreads", "VigilModbus", "VigilGPIO", "VigilUplink", "CModbus"]),
        // The executable: command dispatch only.
        .executableTarget(name: "vigil", dependencies: ["VigilAgent", "VigilLab"]),
        // Benchmark driver for `make bench` (baseline loops beside the agent's own code).
        .executableTarget(name: "vigil-bench", dependencies: ["VigilAgent", "VigilLab", "VigilThreads", "VigilModbus", "VigilUplink", "VigilCore", "CModbus", "CMosquittoLoader"]),
        // Helpers shared by the tests: paths, clocks, fixtures, peer processes (pymodbus, socat, mosquitto).
        // VigilCore only, so the Core tests build with no C library but the CRC instruction.
        .target(name: "VigilTestSupport", dependencies: ["VigilCore"], path: "Tests/VigilTestSupport"),
        // The agent's test helpers: a collecting sink, a test receiver.
        .target(name: "VigilAgentTestSupport", dependencies: ["VigilAgent", "VigilLab", "VigilCore", "VigilTestSupport"], path: "Tests/VigilAgentTestSupport"),
        .testTarget(name: "VigilCoreTests", dependencies: ["VigilCore", "VigilTestSupport"]),
        .testTarget(name: "VigilModbusTests", dependencies: ["VigilModbus", "VigilLab", "VigilCore", "CModbus", "VigilTestSupport"]),
        .testTarget(name: "VigilGPIOTests", dependencies: ["VigilGPIO", "VigilLab", "VigilCore", "VigilTestSupport"]),
        .testTarget(name: "VigilAgentTests", dependencies: ["VigilAgent", "VigilModbus", "VigilUplink", "VigilGPIO", "VigilCore", "VigilTestSupport",
                                                          "VigilAgentTestSupport", "VigilLab"]),
    ],
    swiftLanguageModes: [.v6]
)

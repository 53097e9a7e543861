#if !LIBGPIOD_V2
import CGPIOD
import Glibc
import VigilCore

/// GPIO through libgpiod v1 (LibgpiodV2Backend.swift is the v2 one): edge events with kernel timestamps, bias and
/// active-low in the request. No debounce in v1: `Debouncer` does it.
public struct LibgpiodBackend: GPIOBackend {
    public init() {}

    private static func name(_ spec: GPIOLine) -> String { spec.description }

    private static func flags(_ spec: GPIOLine) -> Int32 {
        var f: UInt = spec.activeLow ? UInt(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) : 0
        switch spec.bias {
        case .none: break
        case .pullUp: f |= UInt(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: f |= UInt(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        }
        return Int32(f)
    }

    private static func open(_ spec: GPIOLine) throws(GPIOError) -> (OpaquePointer, OpaquePointer) {
        guard let chip = gpiod_chip_open_lookup(spec.chip) else {
            throw GPIOError(line: name(spec), message: "cannot open the chip: \(String(cString: strerror(errno)))")
        }
        guard let line = gpiod_chip_get_line(chip, UInt32(spec.offset)) else {
            let e = errno
            gpiod_chip_close(chip)
            throw GPIOError(line: name(spec), message: "no such line: \(String(cString: strerror(e)))")
        }
        return (chip, line)
    }

    public func input(_ spec: GPIOLine, consumer: String) throws(GPIOError) -> any GPIOInput {
        let (chip, line) = try Self.open(spec)
        if gpiod_line_request_both_edges_events_flags(line, consumer, Self.flags(spec)) != 0 {
            let e = errno
            gpiod_chip_close(chip)
            throw GPIOError(line: Self.name(spec), message: "cannot request edge events: \(String(cString: strerror(e)))")
        }
        return LibgpiodInput(chip: chip, line: line, name: Self.name(spec))
    }

    public func output(_ spec: GPIOLine, consumer: String, initial: Bool) throws(GPIOError) -> any GPIOOutput {
        let (chip, line) = try Self.open(spec)
        if gpiod_line_request_output_flags(line, consumer, Self.flags(spec), initial ? 1 : 0) != 0 {
            let e = errno
            gpiod_chip_close(chip)
            throw GPIOError(line: Self.name(spec), message: "cannot request as output: \(String(cString: strerror(e)))")
        }
        return LibgpiodOutput(chip: chip, line: line, name: Self.name(spec))
    }
}

/// A requested line and its chip, released together.
class LibgpiodLine {
    let chip: OpaquePointer
    let line: OpaquePointer
    let name: String

    init(chip: OpaquePointer, line: OpaquePointer, name: String) { self.chip = chip; self.line = line; self.name = name }
    deinit { gpiod_line_release(line); gpiod_chip_close(chip) }

    func failure(_ what: String) -> GPIOError { GPIOError(line: name, message: "\(what): \(String(cString: strerror(errno)))") }
}

final class LibgpiodInput: LibgpiodLine, GPIOInput {
    func read() throws(GPIOError) -> Bool {
        let v = gpiod_line_get_value(line)
        if v < 0 { throw failure("cannot read") }
        return v == 1
    }

    func waitEdges(timeoutMs: Int) throws(GPIOError) -> [LineEdge] {
        var timeout = timespec(tv_sec: timeoutMs / 1000, tv_nsec: (timeoutMs % 1000) * 1_000_000)
        let rc = gpiod_line_event_wait(line, &timeout)
        if rc < 0 { throw failure("waiting for edges") }
        if rc == 0 { return [] }
        var event = gpiod_line_event()
        if gpiod_line_event_read(line, &event) != 0 { throw failure("reading an edge") }
        let nanos = Int64(event.ts.tv_sec) * 1_000_000_000 + Int64(event.ts.tv_nsec)
        return [LineEdge(rising: event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE), nanos: nanos)]
    }
}

final class LibgpiodOutput: LibgpiodLine, GPIOOutput {
    func set(_ on: Bool) throws(GPIOError) {
        if gpiod_line_set_value(line, on ? 1 : 0) != 0 { throw failure("cannot set") }
    }
}

/// libgpiod's version, for support bundles.
public var libgpiodVersion: String { String(cString: gpiod_version_string()) }
#endif

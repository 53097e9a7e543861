#if LIBGPIOD_V2
import CGPIOD
import Glibc
import VigilCore

/// GPIO through libgpiod 2 (compiled when pkg-config finds it; see
/// Package.swift): a line request per line, edge events with timestamps on
/// the monotonic clock, bias and active-low in the line settings. Debounce
/// stays in software (`Debouncer`), so both backends behave alike.
public struct LibgpiodBackend: GPIOBackend {
    public init() {}

    /// v2 opens chips by path: "gpiochip0" means /dev/gpiochip0.
    static func chipPath(_ chip: String) -> String { chip.hasPrefix("/") ? chip : "/dev/\(chip)" }

    private static func failure(_ spec: GPIOLine, _ what: String) -> GPIOError {
        GPIOError(line: spec.description, message: "\(what): \(String(cString: strerror(errno)))")
    }

    /// Requests one line with the settings `configure` adds to the common ones.
    private static func request(_ spec: GPIOLine, consumer: String,
                                configure: (OpaquePointer) -> Bool) throws(GPIOError) -> OpaquePointer {
        guard let chip = gpiod_chip_open(chipPath(spec.chip)) else { throw failure(spec, "cannot open the chip") }
        // The request keeps its own file descriptor: the chip can go once it is made.
        defer { gpiod_chip_close(chip) }
        guard let settings = gpiod_line_settings_new() else { throw failure(spec, "out of memory") }
        defer { gpiod_line_settings_free(settings) }
        gpiod_line_settings_set_active_low(settings, spec.activeLow)
        let bias = switch spec.bias {
        case .none: GPIOD_LINE_BIAS_AS_IS
        case .pullUp: GPIOD_LINE_BIAS_PULL_UP
        case .pullDown: GPIOD_LINE_BIAS_PULL_DOWN
        }
        guard gpiod_line_settings_set_bias(settings, bias) == 0, configure(settings) else { throw failure(spec, "invalid line settings") }
        guard let lineConfig = gpiod_line_config_new() else { throw failure(spec, "out of memory") }
        defer { gpiod_line_config_free(lineConfig) }
        var offset = UInt32(spec.offset)
        guard gpiod_line_config_add_line_settings(lineConfig, &offset, 1, settings) == 0 else { throw failure(spec, "invalid line config") }
        guard let requestConfig = gpiod_request_config_new() else { throw failure(spec, "out of memory") }
        defer { gpiod_request_config_free(requestConfig) }
        gpiod_request_config_set_consumer(requestConfig, consumer)
        guard let request = gpiod_chip_request_lines(chip, requestConfig, lineConfig) else { throw failure(spec, "cannot request the line") }
        return request
    }

    public func input(_ spec: GPIOLine, consumer: String) throws(GPIOError) -> any GPIOInput {
        let request = try Self.request(spec, consumer: consumer) { settings in
            gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT) == 0
                && gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_BOTH) == 0
                && gpiod_line_settings_set_event_clock(settings, GPIOD_LINE_CLOCK_MONOTONIC) == 0
        }
        return LibgpiodV2Input(request: request, offset: UInt32(spec.offset), name: spec.description)
    }

    public func output(_ spec: GPIOLine, consumer: String, initial: Bool) throws(GPIOError) -> any GPIOOutput {
        let request = try Self.request(spec, consumer: consumer) { settings in
            gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT) == 0
                && gpiod_line_settings_set_output_value(settings, initial ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE) == 0
        }
        return LibgpiodV2Output(request: request, offset: UInt32(spec.offset), name: spec.description)
    }
}

/// A line request, released with its owner.
class LibgpiodV2Line {
    let request: OpaquePointer
    let offset: UInt32
    let name: String

    init(request: OpaquePointer, offset: UInt32, name: String) { self.request = request; self.offset = offset; self.name = name }
    deinit { gpiod_line_request_release(request) }

    func failure(_ what: String) -> GPIOError { GPIOError(line: name, message: "\(what): \(String(cString: strerror(errno)))") }
}

final class LibgpiodV2Input: LibgpiodV2Line, GPIOInput {
    static let bufferCapacity = 16
    private let buffer: OpaquePointer? = gpiod_edge_event_buffer_new(LibgpiodV2Input.bufferCapacity)

    deinit { if let buffer { gpiod_edge_event_buffer_free(buffer) } }

    func read() throws(GPIOError) -> Bool {
        let value = gpiod_line_request_get_value(request, offset)
        if value == GPIOD_LINE_VALUE_ERROR { throw failure("cannot read") }
        return value == GPIOD_LINE_VALUE_ACTIVE
    }

    func waitEdges(timeoutMs: Int) throws(GPIOError) -> [LineEdge] {
        guard let buffer else { throw GPIOError(line: name, message: "no edge event buffer (out of memory)") }
        let rc = gpiod_line_request_wait_edge_events(request, Int64(timeoutMs) * 1_000_000)
        if rc < 0 { throw failure("waiting for edges") }
        if rc == 0 { return [] }
        let n = gpiod_line_request_read_edge_events(request, buffer, Self.bufferCapacity)
        if n < 0 { throw failure("reading edges") }
        return (0..<Int(n)).compactMap { i in
            gpiod_edge_event_buffer_get_event(buffer, UInt(i)).map { event in
                LineEdge(rising: gpiod_edge_event_get_event_type(event) == GPIOD_EDGE_EVENT_RISING_EDGE,
                         nanos: Int64(gpiod_edge_event_get_timestamp_ns(event)))
            }
        }
    }
}

final class LibgpiodV2Output: LibgpiodV2Line, GPIOOutput {
    func set(_ on: Bool) throws(GPIOError) {
        if gpiod_line_request_set_value(request, offset, on ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE) != 0 { throw failure("cannot set") }
    }
}

/// libgpiod's version, for support bundles.
public var libgpiodVersion: String { "\(String(cString: gpiod_api_version())) (v2 API)" }
#endif

import CLinuxShims
import VigilCore
import VigilGPIO
import VigilModbus
import VigilUplink

/// The C libraries this agent runs with, name and version, for `vigil bundle`.
public var libraryVersions: [(name: String, version: String)] {
    [("libmodbus", libmodbusVersion), ("libcurl", libcurlVersionString), ("zlib", zlibVersionString), ("libgpiod", libgpiodVersion)]
}

/// `vigil run`: a handful of threads, each allocating little: one malloc arena
/// keeps the resident set small.
public func useOneMallocArena() { _ = CLinuxShims_limit_malloc_arenas(1) }

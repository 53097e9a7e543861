import CLinuxShims
import VigilCore
import VigilGPIO
import VigilModbus
import VigilUplink

/// The C libraries this agent runs with, name and version, for `vigil bundle`.
public var libraryVersions: [(name: String, version: String)] {
    [("libmodbus", libmodbusVersion), ("libcurl", libcurlVersionString), ("zlib", zlibVersionString), ("libgpiod", libgpiodVersion)]
}

/// `vigil run`'s malloc. A handful of threads, each allocating little: one arena
/// keeps the resident set small. And up to 4 MB freed stays in the process (a
/// block under 1 MB comes from the heap): glibc's default gives a batch's buffers
/// back to the kernel after every batch (madvise, munmap), and each time the
/// kernel flushes the TLB of every core the process ran on. That was most of the
/// CPU of draining a backlog through MQTT: twice the readings a second without it
/// (make bench, section 8), the same resident set in steady state (section 2).
public func tuneMallocForTheAgent() { _ = CLinuxShims_tune_malloc(1, 4 << 20, 1 << 20) }

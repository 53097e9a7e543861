import Glibc

/// The TCP side of RTU over TCP. libmodbus has no such backend, but its RTU
/// backend only reads, writes and selects on its descriptor: given a connected
/// socket (modbus_set_socket) it frames, checks CRCs and times out as on a serial
/// line. What a socket needs that a tty does not is here: a connect with a
/// deadline, and a flush (tcflush does nothing on a socket).
enum DeviceServerSocket {
    /// A connected, blocking TCP socket to host:port.
    static func connect(host: String, port: Int, timeoutMs: Int) throws(ModbusError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else { throw .openFailed("\(host):\(port): cannot resolve \(host): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(list) }
        var reason = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                            address.pointee.ai_protocol)
            guard fd >= 0 else { reason = String(cString: strerror(errno)); continue }
            if Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
                reason = String(cString: strerror(errno)); Glibc.close(fd); continue
            }
            var waiting = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            let ready = poll(&waiting, 1, Int32(timeoutMs))
            if ready <= 0 { reason = ready == 0 ? "connect timed out after \(timeoutMs) ms" : String(cString: strerror(errno)); Glibc.close(fd); continue }
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { reason = String(cString: strerror(error)); Glibc.close(fd); continue }
            // Blocking again: libmodbus selects before each read and write.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            var on: Int32 = 1
            // Each request is one small write that must leave at once; a dead server is found by keepalive.
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
            return fd
        }
        throw .openFailed("\(host):\(port): \(reason)")
    }

    /// Reads and drops whatever has arrived (a late answer, garbage from the line).
    static func drain(_ fd: Int32) {
        var scratch = [UInt8](repeating: 0, count: 512)
        while scratch.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
    }
}

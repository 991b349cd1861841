import Glibc

/// The one file in this module that touches sockets: a non-blocking stream socket to a stub
/// over TCP (IPv4 or IPv6, `TCP_NODELAY` set so small requests leave at once) or a Unix-domain
/// socket. Every wait goes through `poll(2)` with a timeout, so no call can hang.
public final class SocketTransport: RemoteTransport {
    private var fd: Int32
    private var lastReadWouldBlock = false
    /// The address this transport connected to.
    public let address: RemoteAddress
    public var peerDescription: String { address.description }
    /// The socket's file descriptor (-1 once closed), for a fatal-signal handler that must
    /// write a prepared packet with write(2) alone.
    public var fileDescriptor: Int32 { fd }

    private init(fd: Int32, address: RemoteAddress) {
        self.fd = fd
        self.address = address
    }

    deinit { close() }

    /// Connects to `address`, giving up after `timeout`.
    ///
    /// - Throws: ``GDBRemoteError/connectionRefused(address:)`` when nothing listens,
    ///   ``GDBRemoteError/connectTimedOut(address:after:)``, ``GDBRemoteError/addressNotFound(address:reason:)``
    ///   or ``GDBRemoteError/connectFailed(address:errno:reason:)``.
    public static func connect(to address: RemoteAddress,
                               timeout: Duration = .seconds(5)) throws -> SocketTransport {
        let deadline = ContinuousClock.now + timeout
        switch address {
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_flags = AI_NUMERICSERV
            var list: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, String(port), &hints, &list)
            guard rc == 0, let first = list else {
                throw GDBRemoteError.addressNotFound(address: address.description,
                                                     reason: String(cString: gai_strerror(rc)))
            }
            defer { freeaddrinfo(list) }
            var lastError: GDBRemoteError = .connectionRefused(address: address.description)
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let ai = entry {
                entry = ai.pointee.ai_next
                do {
                    let fd = try open(family: ai.pointee.ai_family, address: address)
                    do {
                        try connect(fd: fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen,
                                    address: address, deadline: deadline, timeout: timeout)
                        var one: Int32 = 1
                        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one,
                                       socklen_t(MemoryLayout<Int32>.size))
                        return SocketTransport(fd: fd, address: address)
                    } catch {
                        _ = Glibc.close(fd)
                        throw error
                    }
                } catch let error as GDBRemoteError {
                    lastError = error
                }
            }
            throw lastError
        case .unix(let path):
            var sun = sockaddr_un()
            sun.sun_family = sa_family_t(AF_UNIX)
            let capacity = MemoryLayout.size(ofValue: sun.sun_path)
            let bytes = Array(path.utf8)
            guard bytes.count < capacity else {
                throw GDBRemoteError.connectFailed(address: address.description, errno: ENAMETOOLONG,
                                                   reason: "socket path longer than \(capacity - 1) bytes")
            }
            withUnsafeMutableBytes(of: &sun.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let fd = try open(family: AF_UNIX, address: address)
            do {
                try withUnsafePointer(to: &sun) { p in
                    try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                        try connect(fd: fd, sa, socklen_t(MemoryLayout<sockaddr_un>.size),
                                    address: address, deadline: deadline, timeout: timeout)
                    }
                }
            } catch {
                _ = Glibc.close(fd)
                throw error
            }
            return SocketTransport(fd: fd, address: address)
        }
    }

    private static func open(family: Int32, address: RemoteAddress) throws -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
                        | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else {
            let e = errno
            throw GDBRemoteError.connectFailed(address: address.description, errno: e,
                                               reason: String(cString: strerror(e)))
        }
        return fd
    }

    private static func connect(fd: Int32, _ sa: UnsafePointer<sockaddr>, _ len: socklen_t,
                                address: RemoteAddress, deadline: ContinuousClock.Instant,
                                timeout: Duration) throws {
        if Glibc.connect(fd, sa, len) == 0 { return }
        var e = errno
        if e == EINPROGRESS || e == EAGAIN {
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            while true {
                let n = poll(&pfd, 1, milliseconds(until: deadline))
                if n > 0 { break }
                if n == 0 {
                    throw GDBRemoteError.connectTimedOut(address: address.description, after: timeout)
                }
                if errno != EINTR {
                    e = errno
                    throw GDBRemoteError.connectFailed(address: address.description, errno: e,
                                                       reason: String(cString: strerror(e)))
                }
            }
            var soError: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size)
            if soError == 0 { return }
            e = soError
        }
        if e == ECONNREFUSED {
            throw GDBRemoteError.connectionRefused(address: address.description)
        }
        if e == ENOENT, case .unix(let path) = address {
            throw GDBRemoteError.socketMissing(path: path)
        }
        throw GDBRemoteError.connectFailed(address: address.description, errno: e,
                                           reason: String(cString: strerror(e)))
    }

    /// Milliseconds from now to `deadline`, rounded up, never negative.
    static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
        let left = ContinuousClock.now.duration(to: deadline)
        if left <= .zero { return 0 }
        let (seconds, attoseconds) = left.components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }

    public func send(_ bytes: UnsafeRawBufferPointer, timeout: Duration) throws {
        guard fd >= 0 else { throw GDBRemoteError.io(operation: "send", errno: EBADF, reason: "connection closed") }
        let deadline = ContinuousClock.now + timeout
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n > 0 {
                offset += n
                continue
            }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let r = poll(&pfd, 1, Self.milliseconds(until: deadline))
                if r == 0 { throw GDBRemoteError.timedOut(request: "", after: timeout) }
                continue
            }
            if e == EPIPE || e == ECONNRESET {
                throw GDBRemoteError.connectionClosed(request: "", midPacket: false)
            }
            throw GDBRemoteError.io(operation: "send to \(address)", errno: e, reason: String(cString: strerror(e)))
        }
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration) throws -> Int {
        guard fd >= 0 else { throw GDBRemoteError.io(operation: "receive", errno: EBADF, reason: "connection closed") }
        let deadline = ContinuousClock.now + timeout
        // If the last read found nothing waiting, the next one probably will not either:
        // poll first, which saves the `recv` that would fail with EAGAIN.
        var pollFirst = lastReadWouldBlock
        while true {
            if pollFirst {
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let r = poll(&pfd, 1, Self.milliseconds(until: deadline))
                if r == 0 { throw GDBRemoteError.timedOut(request: "", after: timeout) }
            }
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n >= 0 {
                lastReadWouldBlock = pollFirst && n < buffer.count
                return n
            }
            let e = errno
            if e == EINTR { continue }
            if e == ECONNRESET { return 0 }
            guard e == EAGAIN || e == EWOULDBLOCK else {
                throw GDBRemoteError.io(operation: "receive from \(address)", errno: e,
                                        reason: String(cString: strerror(e)))
            }
            pollFirst = true
        }
    }

    public func close() {
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
    }
}

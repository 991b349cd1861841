import GDBRemote
import Glibc

/// The proxy's listening socket: TCP (IPv4/IPv6) or a Unix-domain socket path.
final class ProxyListener {
    let fd: Int32
    let address: RemoteAddress
    /// The address clients (and `monitor kms`'s child process) connect to: a wildcard host
    /// becomes loopback, port 0 becomes the port the kernel chose.
    let connectAddress: RemoteAddress
    private var unlinkPath: String?

    init(_ address: RemoteAddress) throws(ProxyError) {
        self.address = address
        switch address {
        case .unix(let path):
            var sun = sockaddr_un()
            sun.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: sun.sun_path) else {
                throw .cannotListen(address: address.description, reason: "socket path too long")
            }
            withUnsafeMutableBytes(of: &sun.sun_path) { raw in raw.copyBytes(from: bytes); raw[bytes.count] = 0 }
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { throw .cannotListen(address: address.description, reason: String(cString: strerror(errno))) }
            // A stale socket file from an earlier run that nobody listens on is replaced.
            if (try? SocketTransport.connect(to: address, timeout: .milliseconds(200))) == nil { unlink(path) }
            let rc = withUnsafePointer(to: &sun) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            guard rc == 0, listen(fd, 16) == 0 else {
                let reason = String(cString: strerror(errno))
                Glibc.close(fd)
                throw .cannotListen(address: address.description, reason: reason)
            }
            self.fd = fd
            unlinkPath = path
            connectAddress = address
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE
            var list: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, String(port), &hints, &list)
            guard rc == 0, let ai = list else {
                throw .cannotListen(address: address.description, reason: String(cString: gai_strerror(rc)))
            }
            defer { freeaddrinfo(list) }
            let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { throw .cannotListen(address: address.description, reason: String(cString: strerror(errno))) }
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard bind(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0, listen(fd, 16) == 0 else {
                let reason = String(cString: strerror(errno))
                Glibc.close(fd)
                throw .cannotListen(address: address.description, reason: reason)
            }
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            let family = storage.ss_family
            let bound: UInt16 = withUnsafePointer(to: &storage) { p in
                family == sa_family_t(AF_INET6)
                    ? p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
                    : p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            }
            self.fd = fd
            let wildcard = host.isEmpty || host == "0.0.0.0" || host == "::"
            connectAddress = .tcp(wildcard ? (host == "::" ? "::1" : "127.0.0.1") : host, bound)
        }
    }

    /// A waiting connection, or nil.
    func accept() -> Int32? {
        let fd = Glibc.accept(self.fd, nil, nil)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    deinit {
        Glibc.close(fd)
        if let unlinkPath { unlink(unlinkPath) }
    }
}

import Foundation
import Glibc

extension QEMUProcess {
    /// Waits until the serial output contains one of `markers` and returns that marker.
    /// Polls the serial file every 20 ms; every wait is bounded.
    ///
    /// - Throws: ``QEMULaunchError/exited(status:log:)`` (with QEMU's stderr) when QEMU ends
    ///   first, ``QEMULaunchError/timedOut(waitingFor:seconds:serialTail:)`` after `timeout` seconds,
    ///   ``QEMULaunchError/interrupted`` as soon as `interrupted` returns true (a signal arrived).
    @discardableResult
    public func waitForSerial(_ markers: [String], timeout: Double,
                              interrupted: () -> Bool = { false }) throws(QEMULaunchError) -> String {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while true {
            if interrupted() { throw .interrupted }
            let text = serial
            if let found = markers.first(where: { text.contains($0) }) { return found }
            if let status {
                // the last lines may have arrived with the exit
                let text = serial
                if let found = markers.first(where: { text.contains($0) }) { return found }
                throw .exited(status: status, log: log)
            }
            if ContinuousClock.now >= deadline {
                throw .timedOut(waitingFor: markers.map { "'\($0)'" }.joined(separator: " or ") + " on the serial port",
                                seconds: timeout, serialTail: String(text.suffix(2000)))
            }
            usleep(20_000)
        }
    }

    /// Waits until the gdbstub listens, by reading `/proc/net` (what `ss -l` reads) rather than
    /// connecting: any connection to QEMU's gdbstub stops the guest.
    ///
    /// - Throws: `.exited` with QEMU's stderr when QEMU ends first (a port already taken, a bad
    ///   option), `.timedOut` after `timeout` seconds; nothing to wait for without a gdbstub.
    public func waitUntilListening(timeout: Double = 20) throws(QEMULaunchError) {
        guard let gdb = configuration.gdb else { return }
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while true {
            if let status { throw .exited(status: status, log: log) }
            if Self.isListening(gdb, process: pid) { return }
            if ContinuousClock.now >= deadline {
                throw .timedOut(waitingFor: "gdbstub listening on \(gdb)", seconds: timeout, serialTail: String(serial.suffix(2000)))
            }
            usleep(20_000)
        }
    }

    /// Whether `process` listens on `endpoint`: a listening socket in `/proc/net/unix`,
    /// `/proc/net/tcp` or `/proc/net/tcp6` whose inode is one of the process's descriptors
    /// (another program on the same port, or a stale socket file, does not count).
    public static func isListening(_ endpoint: GDBEndpoint, process: pid_t) -> Bool {
        var inodes: [Substring] = []
        switch endpoint {
        case .unix(let path):
            guard let text = readLossy("/proc/net/unix") else { return false }
            // Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 = __SO_ACCEPTCON (listening)
            for line in text.split(separator: "\n") where line.hasSuffix(" " + path) && line.contains(" 00010000 ") {
                let columns = line.split(separator: " ")
                if columns.count > 6 { inodes.append(columns[6]) }
            }
        case .tcp(let host, let port):
            let file = host.contains(":") ? "/proc/net/tcp6" : "/proc/net/tcp"
            guard let text = readLossy(file) else { return false }
            let hexPort = ":" + String(format: "%04X", Int(port))
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode; st 0A = LISTEN
            for line in text.split(separator: "\n").dropFirst() {
                let columns = line.split(separator: " ")
                if columns.count > 9, columns[1].hasSuffix(hexPort), columns[3] == "0A" { inodes.append(columns[9]) }
            }
        }
        guard !inodes.isEmpty else { return false }
        let fdDirectory = "/proc/\(process)/fd"
        guard let fds = try? FileManager.default.contentsOfDirectory(atPath: fdDirectory) else { return false }
        let wanted = Set(inodes.map { "socket:[\($0)]" })
        return fds.contains { fd in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: fdDirectory + "/" + fd)).map(wanted.contains) ?? false
        }
    }

    /// A file's whole text, read with read(2) to its end, invalid UTF-8 replaced. `/proc/net/*`
    /// report a size of 0 and are produced a page at a time, so a reader that trusts the size
    /// or stops early misses the sockets listed after the first page (the case on a busy
    /// machine); and abstract socket names are arbitrary bytes, which a strict decode rejects.
    static func readLossy(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<4096 {   // at most 256 MiB
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A loopback TCP port free at this moment (bound to port 0 and released). Another process
    /// may take it before QEMU does: QEMU then exits, and the caller starts again.
    public static func freePort(ipv6: Bool = false) throws(QEMULaunchError) -> UInt16 {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .spawnFailed("a socket to find a free port", errno: errno) }
        defer { close(fd) }
        var port: UInt16 = 0
        var ok = false
        if ipv6 {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_addr = in6addr_loopback
            var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutablePointer(to: &sa) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { s in ok = bind(fd, s, len) == 0 && getsockname(fd, s, &len) == 0 }
            }
            port = UInt16(bigEndian: sa.sin6_port)
        } else {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_addr.s_addr = inet_addr("127.0.0.1")
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutablePointer(to: &sa) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { s in ok = bind(fd, s, len) == 0 && getsockname(fd, s, &len) == 0 }
            }
            port = UInt16(bigEndian: sa.sin_port)
        }
        guard ok else { throw .spawnFailed("a socket to find a free port", errno: errno) }
        return port
    }
}

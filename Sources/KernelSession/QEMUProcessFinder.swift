import GDBRemote
import Glibc
import KernelLayouts

/// Finds the QEMU process behind a local gdbstub address: the listening socket's inode (from
/// `/proc/net/unix` for a Unix socket, `/proc/net/tcp`/`tcp6` for a loopback port), then the
/// process holding that inode among `/proc/*/fd`. Only processes this user may inspect are
/// seen; the result must be named `qemu…`.
public enum QEMUProcessFinder {
    /// Most processes looked at (a bound on a hostile /proc).
    static let maximumProcesses = 1 << 16

    /// QEMU's pid, or nil when the address is not local or no visible QEMU holds it.
    public static func pid(serving address: RemoteAddress) -> Int32? {
        let inodes = listeningInodes(address)
        guard !inodes.isEmpty, let proc = opendir("/proc") else { return nil }
        defer { closedir(proc) }
        var seen = 0
        while let entry = readdir(proc), seen < maximumProcesses {
            seen += 1
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), isQEMU(pid), holds(pid, inodes) else { continue }
            return pid
        }
        return nil
    }

    /// Whether `/proc/PID/comm` names QEMU.
    static func isQEMU(_ pid: Int32) -> Bool {
        (QEMUProcessMemory.readText("/proc/\(pid)/comm", limit: 64) ?? "").hasPrefix("qemu")
    }

    /// Whether one of `pid`'s descriptors is `socket:[inode]` for one of `inodes`.
    static func holds(_ pid: Int32, _ inodes: Set<String>) -> Bool {
        let dir = "/proc/\(pid)/fd"
        guard let d = opendir(dir) else { return false }
        defer { closedir(d) }
        var buffer = [CChar](repeating: 0, count: 256)
        var n = 0
        while let entry = readdir(d), n < maximumProcesses {
            n += 1
            let fd = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let len = readlink(dir + "/" + fd, &buffer, buffer.count - 1)
            guard len > 0 else { continue }
            let target = String(decoding: buffer[0..<len].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast())) { return true }
        }
        return false
    }

    /// Inodes of the listening socket(s) at `address`, if it is local.
    static func listeningInodes(_ address: RemoteAddress) -> Set<String> {
        switch address {
        case .unix(let path):
            // Num RefCount Protocol Flags Type St Inode Path
            let text = QEMUProcessMemory.readText("/proc/net/unix") ?? ""
            return Set(text.split(whereSeparator: { $0 == "\n" }).compactMap { (line: Substring) -> String? in
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                return f.count >= 8 && f[7] == path && f[5] == "01" ? String(f[6]) : nil
            })
        case .tcp(let host, let port):
            guard ["127.0.0.1", "localhost", "::1", "0.0.0.0", "::", ""].contains(host) else { return [] }
            let hex = String(port, radix: 16, uppercase: true)
            let wanted = String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            var found: Set<String> = []
            for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
                for line in (QEMUProcessMemory.readText(file) ?? "").split(whereSeparator: \.isNewline).dropFirst() {
                    // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
                    let f = line.split(separator: " ", omittingEmptySubsequences: true)
                    guard f.count >= 10, f[3] == "0A", f[1].split(separator: ":").last == Substring(wanted) else { continue }
                    found.insert(String(f[9]))
                }
            }
            return found
        }
    }
}

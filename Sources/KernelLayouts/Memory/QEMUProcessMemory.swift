import Glibc

/// Guest RAM read straight from the QEMU process's memory with `process_vm_readv(2)`, as
/// memflow's QEMU connector does; no special QEMU flag is needed. Each RAM range of the
/// guest's ``GuestRAMLayout`` has a host address (QEMU's `gpa2hva`), checked to lie in a
/// mapping of `/proc/PID/maps`. Needs ptrace rights over QEMU (same user, Yama's
/// `ptrace_scope` 0, or `CAP_SYS_PTRACE`): without them ``init(pid:layout:hostAddresses:addressMap:)``
/// throws ``GuestMemoryError/permission(pid:reason:)``.
public final class QEMUProcessMemory: GuestMemory, @unchecked Sendable {
    public let pid: Int32
    public let layout: GuestRAMLayout
    public let addressMap: KernelAddressMap?
    /// Host address of each of `layout.ranges`' first byte, in the same order.
    public let hostAddresses: [UInt64]

    private typealias ReadV = @convention(c) (pid_t, UnsafePointer<iovec>?, UInt, UnsafePointer<iovec>?, UInt, UInt) -> Int
    private static let readv: ReadV? = dlsym(nil, "process_vm_readv").map { unsafeBitCast($0, to: ReadV.self) }

    /// Checks every range against `/proc/PID/maps` and reads one byte of each, so that a
    /// missing permission is reported here, not at the first real read.
    public init(pid: Int32, layout: GuestRAMLayout, hostAddresses: [UInt64], addressMap: KernelAddressMap?) throws {
        guard Self.readv != nil else { throw GuestMemoryError.unusable("this C library has no process_vm_readv") }
        guard hostAddresses.count == layout.ranges.count else {
            throw GuestMemoryError.unusable("\(hostAddresses.count) host addresses for \(layout.ranges.count) RAM ranges")
        }
        self.pid = pid
        self.layout = layout
        self.hostAddresses = hostAddresses
        self.addressMap = addressMap
        let maps = try Self.mappings(pid)
        for (r, host) in zip(layout.ranges, hostAddresses) {
            guard maps.contains(where: { $0.start <= host && host &+ r.size <= $0.end && host &+ r.size >= host }) else {
                throw GuestMemoryError.unusable("QEMU (pid \(pid)) maps no memory at 0x\(String(host, radix: 16)) for guest RAM 0x\(String(r.physicalStart, radix: 16)) (+\(r.size)): is this the QEMU that runs the guest?")
            }
        }
        var probe: UInt8 = 0
        try withUnsafeMutableBytes(of: &probe) { try copy(from: hostAddresses[0], into: $0) }
    }

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        try read(.kernelVirtual, at: address, count: count)
    }

    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        let physical = try PhysicalTranslation.physical(space, address, buffer.count, addressMap, source: "QEMU's memory")
        try layout.pieces(physical, count: buffer.count, source: "QEMU's memory (pid \(pid))") { offset, at, n in
            // `offset` is in the RAM block; find the range it came from for its host address.
            guard let i = layout.ranges.firstIndex(where: { offset >= $0.blockOffset && offset - $0.blockOffset < $0.size }) else {
                throw GuestMemoryError.unmapped(.guestPhysical, address: physical, count: n, source: "QEMU's memory")
            }
            let host = hostAddresses[i] &+ (offset - layout.ranges[i].blockOffset)
            try copy(from: host, into: UnsafeMutableRawBufferPointer(rebasing: buffer[at..<(at + n)]))
        }
    }

    /// Large reads split across threads (``ParallelCopy``). More iovecs per call (1 MiB each
    /// instead of one per GiB) made no difference measured here, so each call carries one.
    private func copy(from host: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        nonisolated(unsafe) let buffer = buffer   // each part writes only its own range
        try ParallelCopy.run(count: buffer.count) { [self] r in
            try copyRange(from: host &+ UInt64(r.lowerBound), into: UnsafeMutableRawBufferPointer(rebasing: buffer[r]))
        }
    }

    /// One `process_vm_readv` per 1 GiB at most; a short read continues where it stopped.
    private func copyRange(from host: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let n = min(buffer.count - done, 1 << 30)
            var local = iovec(iov_base: buffer.baseAddress! + done, iov_len: n)
            var remote = iovec(iov_base: UnsafeMutableRawPointer(bitPattern: UInt(host &+ UInt64(done))), iov_len: n)
            let got = Self.readv!(pid, &local, 1, &remote, 1, 0)
            if got <= 0 {
                let e = errno
                if e == EPERM || e == EACCES {
                    throw GuestMemoryError.permission(pid: pid, reason: "process_vm_readv: \(String(cString: strerror(e)))")
                }
                if e == ESRCH { throw GuestMemoryError.unusable("QEMU (pid \(pid)) is gone") }
                throw GuestMemoryError.unusable("process_vm_readv from QEMU (pid \(pid)) at 0x\(String(host &+ UInt64(done), radix: 16)): \(got == 0 ? "nothing read" : String(cString: strerror(e)))")
            }
            done += got
        }
    }

    /// `/proc/PID/maps`' address ranges.
    static func mappings(_ pid: Int32) throws -> [(start: UInt64, end: UInt64)] {
        guard let text = readText("/proc/\(pid)/maps") else {
            throw GuestMemoryError.unusable("cannot read /proc/\(pid)/maps: is pid \(pid) a running QEMU?")
        }
        return text.split(whereSeparator: \.isNewline).compactMap { line in
            let range = line.split(separator: " ").first?.split(separator: "-") ?? []
            guard range.count == 2, let s = UInt64(range[0], radix: 16), let e = UInt64(range[1], radix: 16) else { return nil }
            return (s, e)
        }
    }

    /// A small /proc file's text (at most `limit` bytes), or nil when it cannot be opened.
    public static func readText(_ path: String, limit: Int = 16 << 20) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while out.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

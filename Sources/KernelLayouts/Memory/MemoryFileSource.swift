import Glibc

/// Guest RAM shared with QEMU as a file (`-object memory-backend-file,id=ram,size=…,
/// mem-path=FILE,share=on -machine memory-backend=ram`), opened read-only. Guest-physical
/// addresses become file offsets through the guest's ``GuestRAMLayout``; kernel-virtual
/// ones go through the kernel's ``KernelAddressMap`` first. The caller keeps the guest
/// stopped while it reads.
///
/// The file is also mapped read-only (`PROT_READ`, `MAP_SHARED`): ``borrow(_:at:count:)`` lends
/// a range of it in place (the FrameMeta array, decoded and checked with no copy), faulted in
/// ahead with `MADV_POPULATE_READ` (one call instead of a fault per 4 KiB: each command is a
/// new process, so every page is a first touch). Copies (``read(_:at:into:)``) stay
/// `pread(2)`: a read fault on a hole of a sparse tmpfs file allocates the page, where `pread`
/// returns zeros, and small reads cost no mapping work.
public final class MemoryFileSource: BorrowingGuestMemory, @unchecked Sendable {
    /// The file.
    public let path: String
    public let layout: GuestRAMLayout
    public let addressMap: KernelAddressMap?
    private let fd: Int32
    private let length: UInt64
    /// The whole file mapped read-only, nil when it could not be mapped (then nothing is lent).
    private let mapping: UnsafeRawPointer?

    /// Opens `path` read-only. The file must be at least the RAM block's size (the backend's `size=`).
    public init(path: String, layout: GuestRAMLayout, addressMap: KernelAddressMap?) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw GuestMemoryError.unusable("cannot open the guest-RAM file \(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw GuestMemoryError.unusable("cannot stat \(path): \(reason)")
        }
        guard st.st_size >= 0, UInt64(st.st_size) >= layout.blockSize else {
            close(fd)
            throw GuestMemoryError.unusable("\(path) holds \(st.st_size) bytes but the guest's RAM block \(layout.block) is \(layout.blockSize): is it this guest's mem-path?")
        }
        self.fd = fd
        self.path = path
        self.layout = layout
        self.addressMap = addressMap
        length = layout.blockSize
        let m = length <= UInt64(Int.max) ? mmap(nil, Int(length), PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED
        mapping = m == MAP_FAILED ? nil : m.map { UnsafeRawPointer($0) }
    }

    deinit {
        if let mapping { munmap(UnsafeMutableRawPointer(mutating: mapping), Int(length)) }
        close(fd)
    }

    public func borrow(_ space: AddressSpace, at address: UInt64, count: Int) throws -> GuestMemoryLoan? {
        guard let mapping, count > 0 else { return nil }
        let physical = try PhysicalTranslation.physical(space, address, count, addressMap, source: "the guest-RAM file")
        var piece: (offset: UInt64, n: Int)?
        var pieces = 0
        try layout.pieces(physical, count: count, source: "the guest-RAM file") { offset, _, n in
            pieces += 1
            piece = (offset, n)
        }
        guard pieces == 1, let (offset, n) = piece, n == count, offset <= length, UInt64(n) <= length - offset else { return nil }
        // Fault the pages in ahead, whole pages around the range (an older kernel without
        // MADV_POPULATE_READ gets the readahead hint instead).
        let page = UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 4096))
        let first = offset & ~(page - 1)
        let end = min((offset + UInt64(n) + page - 1) & ~(page - 1), length)
        let start = UnsafeMutableRawPointer(mutating: mapping + Int(first))
        if madvise(start, Int(end - first), Self.populateRead) != 0 {
            _ = madvise(start, Int(end - first), MADV_WILLNEED)
        }
        return GuestMemoryLoan(bytes: UnsafeRawBufferPointer(start: mapping + Int(offset), count: n), owner: self)
    }

    /// `MADV_POPULATE_READ` (Linux 5.14; not in every libc's headers).
    static let populateRead: Int32 = 22

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        try read(.kernelVirtual, at: address, count: count)
    }

    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        let physical = try PhysicalTranslation.physical(space, address, buffer.count, addressMap, source: "the guest-RAM file")
        try layout.pieces(physical, count: buffer.count, source: "the guest-RAM file") { offset, at, n in
            guard offset <= length, UInt64(n) <= length - offset else {
                throw GuestMemoryError.unmapped(.guestPhysical, address: physical, count: n, source: path)
            }
            // Large pieces in parallel (``ParallelCopy``), each part its own `pread` calls.
            nonisolated(unsafe) let base = buffer.baseAddress! + at
            let fd = fd, path = path
            try ParallelCopy.run(count: n) { r in
                var done = r.lowerBound
                while done < r.upperBound {
                    let got = pread(fd, base + done, r.upperBound - done, off_t(offset) + off_t(done))
                    if got < 0 && errno == EINTR { continue }
                    guard got > 0 else {
                        throw GuestMemoryError.unusable("reading \(path) at offset \(offset + UInt64(done)): \(got == 0 ? "the file ends early" : String(cString: strerror(errno)))")
                    }
                    done += got
                }
            }
        }
    }
}

/// The kernel-virtual → guest-physical step every RAM source shares.
enum PhysicalTranslation {
    static func physical(_ space: AddressSpace, _ address: UInt64, _ count: Int, _ map: KernelAddressMap?,
                         source: String) throws -> UInt64 {
        guard space == .kernelVirtual else { return address }
        guard let map else { throw GuestMemoryError.unsupportedSpace(space, source: source + " (no kernel address map)") }
        guard let p = map.physical(address, count: count) else {
            throw GuestMemoryError.unmapped(.kernelVirtual, address: address, count: count, source: source)
        }
        return p
    }
}

import Glibc

/// Guest RAM shared with QEMU as a file (`-object memory-backend-file,id=ram,size=…,
/// mem-path=FILE,share=on -machine memory-backend=ram`), opened read-only. Guest-physical
/// addresses become file offsets through the guest's ``GuestRAMLayout``; kernel-virtual
/// ones go through the kernel's ``KernelAddressMap`` first. The caller keeps the guest
/// stopped while it reads.
///
/// Reads are `pread(2)` into the caller's buffer, not copies out of a mapping: a fresh
/// mapping takes a page fault per 4 KiB (each command is a new process, so every read is a
/// first touch: 1.1 GB/s measured against 2+ GB/s for `pread`), and a read fault on a hole of
/// a sparse tmpfs file allocates the page, where `pread` returns zeros.
public final class MemoryFileSource: GuestMemory, @unchecked Sendable {
    /// The file.
    public let path: String
    public let layout: GuestRAMLayout
    public let addressMap: KernelAddressMap?
    private let fd: Int32
    private let length: UInt64

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
    }

    deinit { close(fd) }

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        try read(.kernelVirtual, at: address, count: count)
    }

    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        let physical = try PhysicalTranslation.physical(space, address, buffer.count, addressMap, source: "the guest-RAM file")
        try layout.pieces(physical, count: buffer.count, source: "the guest-RAM file") { offset, at, n in
            guard offset <= length, UInt64(n) <= length - offset else {
                throw GuestMemoryError.unmapped(.guestPhysical, address: physical, count: n, source: path)
            }
            var done = 0
            while done < n {
                let got = pread(fd, buffer.baseAddress! + at + done, n - done, off_t(offset) + off_t(done))
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else {
                    throw GuestMemoryError.unusable("reading \(path) at offset \(offset + UInt64(done)): \(got == 0 ? "the file ends early" : String(cString: strerror(errno)))")
                }
                done += got
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

import Glibc

/// Guest RAM shared with QEMU as a file (`-object memory-backend-file,id=ram,size=…,
/// mem-path=FILE,share=on -machine memory-backend=ram`), mapped read-only. Guest-physical
/// addresses become file offsets through the guest's ``GuestRAMLayout``; kernel-virtual
/// ones go through the kernel's ``KernelAddressMap`` first. Reads are `memcpy`s; the caller
/// keeps the guest stopped while it reads.
public final class MemoryFileSource: GuestMemory, @unchecked Sendable {
    /// The file.
    public let path: String
    public let layout: GuestRAMLayout
    public let addressMap: KernelAddressMap?
    private let base: UnsafeRawPointer
    private let length: Int

    /// Maps `path` read-only. The file must be at least the RAM block's size (the backend's `size=`).
    public init(path: String, layout: GuestRAMLayout, addressMap: KernelAddressMap?) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw GuestMemoryError.unusable("cannot open the guest-RAM file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw GuestMemoryError.unusable("cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        guard st.st_size >= 0, UInt64(st.st_size) >= layout.blockSize else {
            throw GuestMemoryError.unusable("\(path) holds \(st.st_size) bytes but the guest's RAM block \(layout.block) is \(layout.blockSize): is it this guest's mem-path?")
        }
        let p = mmap(nil, Int(layout.blockSize), PROT_READ, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw GuestMemoryError.unusable("cannot map \(path): \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.layout = layout
        self.addressMap = addressMap
        base = UnsafeRawPointer(p)
        length = Int(layout.blockSize)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), length) }

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        try read(.kernelVirtual, at: address, count: count)
    }

    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        let physical = try PhysicalTranslation.physical(space, address, buffer.count, addressMap, source: "the guest-RAM file")
        try layout.pieces(physical, count: buffer.count, source: "the guest-RAM file") { offset, at, n in
            guard offset <= UInt64(length), UInt64(n) <= UInt64(length) - offset else {
                throw GuestMemoryError.unmapped(.guestPhysical, address: physical, count: n, source: path)
            }
            (buffer.baseAddress! + at).copyMemory(from: base + Int(offset), byteCount: n)
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

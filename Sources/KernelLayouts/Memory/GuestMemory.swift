/// Guest memory as the toolkit reads it: through the gdbstub, from the shared guest-RAM file or
/// from the QEMU process (``MemoryFileSource``, ``QEMUProcessMemory``). Every read names its
/// ``AddressSpace``; the read-into-buffer form lets a caller fill one buffer (the FrameMeta
/// array) without a second copy.
///
/// A source only reads: the stub stays the control channel, and the caller keeps the guest
/// stopped while a source reads (``KernelSession``'s `GuestSession` does).
public protocol GuestMemory {
    /// Reads `count` bytes at kernel-virtual address `address`, or throws an error naming it.
    func read(at address: UInt64, count: Int) throws -> [UInt8]

    /// Fills `buffer` with the bytes at `address` in `space`, or throws an error naming the
    /// first address that could not be read (then the buffer's contents are unspecified).
    func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws
}

extension GuestMemory {
    /// For sources that only know kernel-virtual addresses and return arrays (test buffers):
    /// the buffer form through ``read(at:count:)``; guest-physical reads are refused.
    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard space == .kernelVirtual else {
            throw GuestMemoryError.unsupportedSpace(space, source: String(describing: Self.self))
        }
        let bytes = try read(at: address, count: buffer.count)
        guard bytes.count == buffer.count else {
            throw GuestMemoryError.unmapped(space, address: address, count: buffer.count, source: String(describing: Self.self))
        }
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
    }

    /// Reads `count` bytes at `address` in `space` into a new array.
    public func read(_ space: AddressSpace, at address: UInt64, count: Int) throws -> [UInt8] {
        precondition(count >= 0)
        var out = [UInt8](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { try read(space, at: address, into: $0) }
        return out
    }

    /// Reads a little-endian 64-bit value at a kernel-virtual address.
    public func readU64(at address: UInt64) throws -> UInt64 {
        littleEndian(try read(at: address, count: 8)[...])
    }

    /// Reads a little-endian 32-bit value at a kernel-virtual address.
    public func readU32(at address: UInt64) throws -> UInt32 {
        UInt32(truncatingIfNeeded: littleEndian(try read(at: address, count: 4)[...]))
    }
}

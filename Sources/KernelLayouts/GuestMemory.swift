/// Guest memory as the toolkit reads it: through the gdbstub today, from a guest-RAM file or
/// a saved snapshot later. Addresses are the kernel's virtual addresses.
public protocol GuestMemory {
    /// Reads `count` bytes at virtual address `address`, or throws an error naming it.
    func read(at address: UInt64, count: Int) throws -> [UInt8]
}

extension GuestMemory {
    /// Reads a little-endian 64-bit value.
    public func readU64(at address: UInt64) throws -> UInt64 {
        littleEndian(try read(at: address, count: 8)[...])
    }
}

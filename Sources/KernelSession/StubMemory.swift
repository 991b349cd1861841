import GDBRemote
import KernelLayouts

/// Guest memory read through the gdbstub: kernel-virtual addresses through the guest's page
/// tables, guest-physical ones in QEMU's physical mode (`Qqemu.PhyMemMode:1`, switched back
/// after the read); pipelined `m` requests either way. Read-only: nothing in a session writes
/// guest memory. The reference the faster sources are checked against.
public struct StubMemory: GuestMemory {
    /// The attached stub.
    public let target: RemoteTarget

    /// Reads through `target`.
    public init(target: RemoteTarget) { self.target = target }

    /// Reads `count` bytes at virtual address `address` (pipelined `m` requests).
    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        DebugTrap.reading()
        try target.useMemoryMode(physical: false)
        return try target.readMemory(at: address, count: count)
    }

    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        DebugTrap.reading()
        try target.withMemoryMode(physical: space == .guestPhysical) {
            try target.readMemory(at: address, into: buffer)
        }
    }
}

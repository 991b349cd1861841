import GDBRemote
import KernelLayouts

/// Guest memory read through the gdbstub (virtual addresses, pipelined reads). Read-only:
/// nothing in a session writes guest memory.
public struct StubMemory: GuestMemory {
    /// The attached stub.
    public let target: RemoteTarget

    /// Reads through `target`.
    public init(target: RemoteTarget) { self.target = target }

    /// Reads `count` bytes at virtual address `address` (pipelined `m` requests).
    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        try target.readMemory(at: address, count: count)
    }
}

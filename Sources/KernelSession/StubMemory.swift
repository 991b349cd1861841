import GDBRemote
import KernelLayouts

/// Guest memory read through the gdbstub (virtual addresses, pipelined reads). Read-only:
/// nothing in a session writes guest memory.
public struct StubMemory: GuestMemory {
    public let target: RemoteTarget

    public init(target: RemoteTarget) { self.target = target }

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        try target.readMemory(at: address, count: count)
    }
}

import GDBRemote
import KernelLayouts

/// Guest memory through a GDB stub, at the kernel's virtual addresses (the stub reads through
/// the guest's page tables). Large reads are pipelined by ``RemoteTarget/readMemory(at:count:depth:)``.
public struct RemoteTargetMemory: GuestMemory {
    public let target: RemoteTarget

    public init(target: RemoteTarget) { self.target = target }

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        try target.readMemory(at: address, count: count)
    }
}

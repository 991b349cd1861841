import GDBRemote
import KernelLayouts

/// Guest memory read through the gdbstub (virtual addresses, pipelined reads).
struct StubMemory: GuestMemory {
    let target: RemoteTarget

    func read(at address: UInt64, count: Int) throws -> [UInt8] {
        try target.readMemory(at: address, count: count)
    }
}

import AllocatorModel
import KernelLayouts

extension SnapshotDecoder {
    /// Each CPU's in-operation row (`busy`, `parentSequence`) from `CPU_OPS`, rows
    /// `0 ..< PCP_CPUS` (at most 16), and the heap lock's words (`HeapState.lock`): empty/nil
    /// when the kernel does not publish them (kernel/README.md "Operations in progress").
    func decodeCPUOperations() throws -> (rows: [StateFields.CPUOperationWords], heapLock: StateFields.ZoneLockWords?) {
        var rows: [StateFields.CPUOperationWords] = []
        if info["CPU_OPS"] != nil, info["CPU_OPS_STRIDE"] != nil, info["OFFSET(CPUOperation.busy)"] != nil,
           info["OFFSET(CPUOperation.parentSequence)"] != nil {
            let base = try info.number("CPU_OPS")
            let stride = try info.number("CPU_OPS_STRIDE")
            let busy = UInt64(try info.boundedOffset(of: "CPUOperation", "busy", width: 8))
            let parent = UInt64(try info.boundedOffset(of: "CPUOperation", "parentSequence", width: 8))
            guard stride >= 16, stride <= 4096, busy &+ 8 <= stride, parent &+ 8 <= stride else { return ([], nil) }
            let cpus = min((try? info.number("PCP_CPUS")) ?? 16, 16)
            for c in 0..<cpus {
                let row = base &+ c &* stride
                rows.append(.init(busy: littleEndian(try memory.read(at: row &+ busy, count: 8)[...]),
                                  parentSequence: littleEndian(try memory.read(at: row &+ parent, count: 8)[...])))
            }
        }
        var heapLock: StateFields.ZoneLockWords?
        if info["HEAP"] != nil, info["OFFSET(HeapState.lock)"] != nil, info["OFFSET(TicketLockWord.next)"] != nil,
           info["OFFSET(TicketLockWord.owner)"] != nil {
            let lock = try info.number("HEAP") &+ UInt64(try info.boundedOffset(of: "HeapState", "lock", width: try info.boundedSize(of: "TicketLockWord")))
            let next = UInt64(try info.boundedOffset(of: "TicketLockWord", "next", width: 4))
            let owner = UInt64(try info.boundedOffset(of: "TicketLockWord", "owner", width: 4))
            heapLock = .init(next: UInt32(truncatingIfNeeded: littleEndian(try memory.read(at: lock &+ next, count: 4)[...])),
                             owner: UInt32(truncatingIfNeeded: littleEndian(try memory.read(at: lock &+ owner, count: 4)[...])))
        }
        return (rows, heapLock)
    }
}

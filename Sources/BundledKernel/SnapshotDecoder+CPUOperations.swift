import BundledState
import KernelLayouts

extension SnapshotDecoder {
    /// Each CPU's in-operation row (`busy`, `parentSequence`) from `CPU_OPS`, rows
    /// `0 ..< PCP_CPUS` (at most 16), and the heap lock's words (`HeapState.lock`): empty/nil
    /// when the kernel does not publish them (kernel/README.md "Operations in progress").
    func decodeCPUOperations() throws -> (rows: [StateFields.CPUOperationWords], heapLock: StateFields.ZoneLockWords?) {
        let rows = try CPUActivityDecoder(info: info, memory: memory).operations()
        var heapLock: StateFields.ZoneLockWords?
        if info["HEAP"] != nil, info["OFFSET(HeapState.lock)"] != nil, info["OFFSET(TicketLockWord.next)"] != nil,
           info["OFFSET(TicketLockWord.owner)"] != nil {
            let lock = try info.number("HEAP") &+ UInt64(try info.boundedOffset(of: "HeapState", "lock", width: try info.boundedSize(of: "TicketLockWord")))
            heapLock = try ticketLockWords(at: lock)
        }
        return (rows, heapLock)
    }
}

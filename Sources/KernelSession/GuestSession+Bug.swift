import AllocatorModel
import GDBRemote
import KernelLayouts

extension GuestView {
    /// The BUG the kernel halted at, when it stopped itself (kernel/README.md "A kernel halted
    /// at its BUG"): its `kmem_bug` record, and whether the CPU's RIP (live, or as a snapshot
    /// saved it) is inside `kmem_bug_halt`. nil for a kernel that has not (or that publishes
    /// no record). Reads the record (256 bytes) and one register; never runs the guest.
    public func haltedAtBug() throws -> KernelBug? {
        guard var bug = try BugRecordDecoder(info: info, memory: memory).decode() else { return nil }
        if let start = try? info.number("BUG_HALT"), let rip = try? register("rip") {
            let size = (try? kernel.symbol("kmem_bug_halt").size).flatMap { $0 == 0 ? nil : $0 } ?? 16
            bug.haltedAtBugHalt = rip >= start && rip - start < size
        }
        return bug
    }
}

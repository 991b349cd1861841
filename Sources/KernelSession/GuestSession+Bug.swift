import BundledState
import GDBRemote
import BundledKernel
import KernelLayouts

extension GuestView {
    /// The BUG the kernel halted at, when it stopped itself (kernel/README.md "A kernel halted
    /// at its BUG"): its `kmem_bug` record, and whether the RIP of the CPU that stopped (live,
    /// or as a snapshot saved it) is inside `kmem_bug_halt` — on a live guest of several CPUs,
    /// any CPU's, since the workload runs on every CPU and the one that hit the BUG may be any.
    /// nil for a kernel that has not (or that publishes no record). Reads the record (256
    /// bytes) and one register per CPU; never runs the guest.
    public func haltedAtBug() throws -> KernelBug? {
        guard var bug = try BugRecordDecoder(info: info, memory: memory).decode() else { return nil }
        if let start = try? info.number("BUG_HALT"), let rips = try? registerOfEveryCPU("rip") {
            let size = (try? kernel.symbol("kmem_bug_halt").size).flatMap { $0 == 0 ? nil : $0 } ?? 16
            bug.haltedAtBugHalt = rips.contains { $0 >= start && $0 - start < size }
        }
        return bug
    }
}

import GDBRemote
import BundledKernel
import KernelLayouts

extension GuestSession {
    /// On a guest of several CPUs (QEMU's gdbstub lists one thread per vCPU), makes the boot
    /// CPU's thread the one register reads address (`Hg`): only the boot CPU runs the allocator
    /// (kernel/README.md "Several CPUs"), so its RIP is the one that says where the kernel is (at
    /// its BUG, inside an operation), whichever thread a stop was reported on. The boot CPU's
    /// thread is the one whose GS base is CPU 0's per-CPU area (`PERCPU`); when no thread says
    /// so (GS not loaded yet, a stub without `gs_base`) the stub's first thread, QEMU's CPU 0.
    /// Returns the thread chosen, nil on a one-CPU guest or a kernel that publishes no CPUs.
    @discardableResult
    func selectBootCPUThread() throws -> String? {
        guard info["CPU_COUNT"] != nil, let count = try? info.number("CPU_COUNT"), count > 1,
              let percpu = try? info.number("PERCPU") else { return nil }
        let ids = try target.threadIDs(limit: Int(CPUTableDecoder.maximumCPUs))
        guard let first = ids.first, ids.count > 1 else { return nil }
        var chosen = first
        for id in ids {
            try target.selectThread(id)
            if let gs = try? target.register("gs_base"), gs == percpu {
                chosen = id
                break
            }
        }
        try target.selectThread(chosen)
        bootCPUThread = chosen
        selectedThread = chosen
        return chosen
    }
}

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

    /// Which of the stub's threads runs each of the kernel's CPUs, by CPU number: learned, not
    /// assumed. A CPU's GS base is its own per-CPU area (`PERCPU + n × PERCPU_STRIDE`,
    /// kernel/README.md "Several CPUs"), so each thread's `gs_base` names its CPU. (QEMU numbers
    /// its threads from 1 in vCPU order and the kernel numbers its CPUs in APIC order, so thread
    /// `n + 1` is CPU n on the guests the tests boot; nothing here depends on that.) A thread
    /// whose GS base is no CPU's area (an AP that has not loaded GS yet, a stub without
    /// `gs_base`) is left out. The thread selected for register reads is selected again.
    /// Empty on a one-CPU guest or a kernel that publishes no CPUs.
    func threadsByCPU() throws -> [Int: String] {
        guard bootCPUThread != nil, let percpu = try? info.number("PERCPU"),
              let count = try? info.number("CPU_COUNT", atMost: CPUTableDecoder.maximumCPUs),
              let stride = try? info.number("PERCPU_STRIDE", atMost: KernelInfo.maximumStructureSize), stride > 0 else { return [:] }
        var threads: [Int: String] = [:]
        for (id, gs) in try eachThread({ _ in try? target.register("gs_base") }) {
            guard let gs, gs >= percpu, (gs - percpu) % stride == 0, (gs - percpu) / stride < count else { continue }
            let cpu = Int((gs - percpu) / stride)
            if threads[cpu] == nil { threads[cpu] = id }
        }
        return threads
    }

    /// `body` run with each of the stub's threads selected (`Hg`), in the stub's order, and
    /// the thread the session had selected for register reads selected again afterwards.
    func eachThread<T>(_ body: (String) throws -> T) throws -> [(thread: String, value: T)] {
        let restoring = selectedThread ?? bootCPUThread
        let ids = try target.threadIDs(limit: Int(CPUTableDecoder.maximumCPUs))
        defer { if let restoring { try? target.selectThread(restoring) } }
        var values: [(thread: String, value: T)] = []
        for id in ids {
            try target.selectThread(id)
            values.append((id, try body(id)))
        }
        return values
    }
}

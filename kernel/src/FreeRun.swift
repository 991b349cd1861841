import KernelSupport

/// `smp=free` (kernel/README.md "Workload", free-running): every CPU runs its own stream of the
/// workload at once, without turns, so several CPUs are inside the allocator together (the
/// zone locks, the heap lock, the atomic sequence number and each CPU's in-operation row are
/// what keep that safe). Nothing orders the CPUs, so a run is not repeatable: the toolkit's
/// bisect and watch refuse such a guest (`TURNS_MODE` = 1).
///
/// CPU c runs `ops / N` operations (CPU 0 also the remainder) of its own stream and touches its
/// own live set alone (no frees across CPUs: the live sets have no lock). The shared run is
/// only read while the CPUs run, except each CPU's own count; no fault is injected, and
/// `kmem_stop_seq` is not checked. The phases end, with their checkpoints and the hot-add, on
/// CPU 0 after every CPU has finished (`finish`).
enum FreeRun {
    /// The operations CPU `cpu` runs.
    static func share(_ cpu: Int, run: UnsafeMutablePointer<WorkloadRun>) -> UInt64 {
        let n = UInt64(max(run.pointee.cpus, 1))
        let each = run.pointee.operations / n
        return cpu == 0 ? each &+ run.pointee.operations % n : each
    }

    /// Runs CPU `cpu`'s share of the workload, free.
    static func run(_ cpu: Int, _ allocator: PageAllocator, run: UnsafeMutablePointer<WorkloadRun>) throws(KmemError) {
        guard cpu < run.pointee.cpus else { return }
        var workload = Workload(allocator: allocator, run: run, cpu: cpu)
        run.pointee.register(workload.live, cpu: cpu)
        let n = share(cpu, run: run)
        var i: UInt64 = 0
        while i < n {
            try workload.step()
            run.pointee.countOwn(cpu: cpu)
            i &+= 1
            if i & 0xFFF == 0 { Turns.stopIfBug() }  // another CPU stopped at a BUG: halt too
        }
    }

    /// On CPU 0 once every AP has finished: the run's total, then every phase's end (its
    /// checkpoint, and after phase 1 the hot-add).
    static func finish(_ allocator: PageAllocator, run: UnsafeMutablePointer<WorkloadRun>) {
        var total: UInt64 = 0
        for c in 0 ..< run.pointee.cpus { total &+= run.pointee.operations(cpu: c) }
        run.pointee.done = total
        run.pointee.endPhases(allocator)
    }
}

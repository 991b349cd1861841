import KernelSupport
import Synchronization

/// `smp=free` (kernel/README.md "Workload", free-running): every CPU runs its own stream of the
/// workload at once, without turns, so several CPUs are inside the allocator together (the
/// zone locks, the heap lock, the atomic sequence number and each CPU's in-operation row are
/// what keep that safe). Nothing orders the CPUs, so a run is not repeatable: the toolkit's
/// bisect and watch refuse such a guest (`TURNS_MODE` = 1).
///
/// CPU c runs `ops / N` operations (CPU 0 also the remainder) of its own stream and touches its
/// own live set alone (no frees across CPUs: the live sets have no lock). The shared run is
/// only read while the CPUs run, except each CPU's own count and the fault's claim word. After
/// each operation, on whichever CPU ran it: the fault once the sequence reaches SEQ (claimed by
/// one CPU, injected holding every lock: `injectFault`) and `kmem_stop_seq` (claimed the same
/// way: `checkStop`). The phases end, with their checkpoints and the hot-add, on CPU 0 after
/// every CPU has finished (`finish`).
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
            try afterOperation(allocator, run: run)
            i &+= 1
            if i & 0xFFF == 0 { Turns.stopIfBug() }  // another CPU stopped at a BUG: halt too
        }
    }

    /// The last sequence number taken, read atomically (other CPUs take numbers meanwhile).
    static func sequence(_ allocator: PageAllocator) -> UInt64 {
        atomicWord(PageAllocator.address(of: &allocator.state.pointee.sequence)).pointee.load(ordering: .sequentiallyConsistent)
    }

    /// After one of this CPU's workload operations: the fault, then the stop point.
    static func afterOperation(_ allocator: PageAllocator, run: UnsafeMutablePointer<WorkloadRun>) throws(KmemError) {
        try injectFault(allocator, run: run)
        checkStopSequence(allocator, phase: run.pointee.phase)
    }

    /// `fault=KIND@SEQ` running free: the first operation to end with the sequence at or past
    /// SEQ (on whichever CPU) claims the fault (compare-exchange 0 → 1 on `faultClaim`, so
    /// exactly one CPU injects it) and injects it holding every lock (`withEveryLock`), so no
    /// CPU sees it half-written and the `seq N` of its line (the same line as with turns) is
    /// the sequence with every operation up to N done and none above N begun. With no target
    /// yet the claim is given back (0) and the next operation to end tries again.
    static func injectFault(_ allocator: PageAllocator, run: UnsafeMutablePointer<WorkloadRun>) throws(KmemError) {
        guard let kind = run.pointee.fault else { return }
        let claim = atomicWord(PageAllocator.address(of: &run.pointee.faultClaim))
        guard claim.pointee.load(ordering: .sequentiallyConsistent) == 0, sequence(allocator) >= run.pointee.faultSequence,
              claim.pointee.compareExchange(expected: 0, desired: 1, ordering: .sequentiallyConsistent).exchanged else { return }
        let injected = try allocator.withEveryLock { () -> Bool in
            guard let report = allocator.injectFault(kind) else { return false }
            report.write(to: &console)   // under the locks: no other CPU prints a checkpoint meanwhile
            return true
        }
        claim.pointee.store(injected ? 2 : 0, ordering: .sequentiallyConsistent)
    }

    /// On CPU 0 once every AP has finished: the run's total, then every phase's end (its
    /// checkpoint, and after phase 1 the hot-add).
    static func finish(_ allocator: PageAllocator, run: UnsafeMutablePointer<WorkloadRun>) {
        if run.pointee.faultClaim == 2 { run.pointee.fault = nil }   // injected ("found no target" else)
        var total: UInt64 = 0
        for c in 0 ..< run.pointee.cpus { total &+= run.pointee.operations(cpu: c) }
        run.pointee.done = total
        run.pointee.endPhases(allocator)
    }
}

import KernelSupport

/// What the CPUs of one workload run share (kernel/README.md "Workload"): the operation count,
/// the phase, the fault still to inject, the RAM to hot-add after phase 1, and every CPU's live
/// set once it has started. It lives on CPU 0's stack for the whole run; only the CPU whose
/// turn it is touches it (`Turns`), so it needs no lock. Running free (`FreeRun`) each CPU
/// writes only its own count, and the fault's claim word by compare-exchange.
struct WorkloadRun {
    let seed: UInt64
    let operations: UInt64
    let phases: UInt64
    /// The CPUs taking turns (1: CPU 0 alone, as on a one-CPU guest).
    let cpus: Int
    /// Workload operations done so far, by every CPU.
    var done: UInt64 = 0
    /// The phase in progress (1…phases); phases + 1 once the last checkpoint ran.
    var phase: UInt64 = 1
    /// RAM held back at boot, added when phase 1 ends.
    var hotAdd: PhysRange?
    /// Fault to inject once the sequence number reaches `faultSequence`.
    var fault: FaultKind?
    var faultSequence: UInt64
    /// Running free: who injects the fault, decided once across CPUs by compare-exchange
    /// (`FreeRun.injectFault`): 0 pending, 1 a CPU is injecting it, 2 injected.
    var faultClaim: UInt64 = 0
    /// Each CPU's live set (`Unmanaged` bits, retained for the rest of the run), 0 before its first turn.
    var liveSets: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                   UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    /// Workload operations each CPU did.
    var perCPU: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                 UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    init(seed: UInt64, operations: UInt64, phases: UInt64, cpus: Int, fault: FaultKind?, faultSequence: UInt64) {
        self.seed = seed
        self.operations = operations
        self.phases = max(phases, 1)
        self.cpus = min(max(cpus, 1), Int(KMEM_MAX_CPUS))
        self.fault = fault
        self.faultSequence = faultSequence
    }

    var finished: Bool { phase > phases }

    /// CPU `cpu`'s live set, nil before its first turn.
    func liveSet(_ cpu: Int) -> LiveSet? {
        guard cpu >= 0 && cpu < 16 else { return nil }
        var table = liveSets
        let bits = withUnsafeBytes(of: &table) { $0.load(fromByteOffset: cpu &* 8, as: UInt64.self) }
        guard bits != 0, let raw = UnsafeMutableRawPointer(bitPattern: UInt(bits)) else { return nil }
        return Unmanaged<LiveSet>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Records CPU `cpu`'s live set, retained so it outlives the CPU's turns (no CPU ever
    /// frees its bookkeeping: that would be an allocator operation outside a turn).
    mutating func register(_ live: LiveSet, cpu: Int) {
        let bits = UInt64(UInt(bitPattern: Unmanaged.passRetained(live).toOpaque()))
        withUnsafeMutableBytes(of: &liveSets) { $0.storeBytes(of: bits, toByteOffset: cpu &* 8, as: UInt64.self) }
    }

    mutating func countOperation(cpu: Int) {
        done &+= 1
        withUnsafeMutableBytes(of: &perCPU) { b in
            b.storeBytes(of: b.load(fromByteOffset: cpu &* 8, as: UInt64.self) &+ 1, toByteOffset: cpu &* 8, as: UInt64.self)
        }
    }

    /// Counts one operation of CPU `cpu` in its own word only (running free, the CPUs count at
    /// once: `done` is summed at the end).
    mutating func countOwn(cpu: Int) {
        withUnsafeMutableBytes(of: &perCPU) { b in
            b.storeBytes(of: b.load(fromByteOffset: cpu &* 8, as: UInt64.self) &+ 1, toByteOffset: cpu &* 8, as: UInt64.self)
        }
    }

    func operations(cpu: Int) -> UInt64 {
        var t = perCPU
        return withUnsafeBytes(of: &t) { $0.load(fromByteOffset: cpu &* 8, as: UInt64.self) }
    }

    /// After an operation (on whichever CPU ran it): the fault once its sequence is reached,
    /// and a debugger's `kmem_stop_seq`.
    mutating func afterOperation(_ allocator: PageAllocator) {
        if let kind = fault, allocator.state.pointee.sequence >= faultSequence {
            if let report = allocator.injectFault(kind) {
                report.write(to: &console)
                fault = nil
            }
        }
        checkStopSequence(allocator, phase: phase)
    }

    /// Ends every phase whose operations are all done: its checkpoint, and after phase 1 the
    /// hot-add. Called before the first operation and after each one.
    mutating func endPhases(_ allocator: PageAllocator) {
        while phase <= phases && done >= operations &* phase / phases {
            kmemCheckpoint(phase)
            if phase == 1, let h = hotAdd {
                hotAddMemory(allocator, h)
                hotAdd = nil
            }
            phase &+= 1
        }
    }
}

/// The CPUs' turns (kernel/README.md "Workload"): with N CPUs online every CPU runs its own
/// share of the workload, one CPU at a time, in the fixed order 0 → 1 → … → N-1 → 0, each turn
/// `batch` operations (fewer when the run ends). The turn word is handed on by the CPU that
/// ends its turn; the others spin on it with interrupts off. So the operations, and the log,
/// are the same on every boot whatever the host does, and only one CPU is ever inside an
/// allocator operation (the global sequence number and `busy` stay exact). The words are
/// boot.S `kmem_turns`.
enum Turns {
    static var base: UInt64 { turn_area() }
    /// The CPU whose turn it is.
    static var turnAddress: UInt64 { base }
    /// 1 when the workload runs on every CPU (set by CPU 0 before the APs start).
    static var enabledAddress: UInt64 { base &+ 8 }
    /// 1 once the run has started (the shared run's address is written).
    static var startedAddress: UInt64 { base &+ 16 }
    /// APs that have left their turns (the run finished).
    static var leftAddress: UInt64 { base &+ 24 }
    /// The shared `WorkloadRun`'s address.
    static var runAddress: UInt64 { base &+ 32 }
    /// `turnstall=C` (diagnostic): AP C parks at its first turn instead of taking it, so the CPU
    /// after it reports the BUG; the wait is then cut to `stallSpinLimit`. Stored as C (0: none).
    static var stallAddress: UInt64 { base &+ 40 }
    /// 1 when the CPUs run free (`smp=free`: no turns, operations truly concurrent; see
    /// `FreeRun`), 0 when they take turns. Published as `TURNS_MODE` (boot.S `TURNS_MODE`).
    static var modeAddress: UInt64 { base &+ 48 }

    /// Workload operations per turn.
    static let batch: UInt64 = 16
    /// Spins a waiting CPU allows the CPU whose turn it is before it reports a BUG (about a
    /// minute under TCG; a stopped guest does not spin). One turn takes milliseconds.
    static let spinLimit: UInt64 = 1 << 34
    /// The bound with `turnstall=` (a fraction of a second under TCG), so a test sees the BUG soon.
    static let stallSpinLimit: UInt64 = 1 << 24

    /// On CPU 0 before the APs start: whether they are to take turns in the workload, and the
    /// AP that is to stall (`turnstall=`, 0 none).
    static func enable(_ on: Bool, stall: UInt64 = 0, free: Bool = false) {
        volatile_store_u64(enabledAddress, on ? 1 : 0)
        volatile_store_u64(stallAddress, free ? 0 : stall)
        volatile_store_u64(modeAddress, on && free ? 1 : 0)
    }

    /// Whether the CPUs run the workload free (`smp=free`) instead of taking turns.
    static var free: Bool { volatile_load_u64(modeAddress) != 0 }

    static var enabled: Bool { volatile_load_u64(enabledAddress) != 0 }

    /// A CPU that waits: halts quietly in `kmem_bug_halt` when another CPU stopped at a BUG
    /// (that CPU's record says what happened), so no second BUG line follows the first.
    @inline(__always)
    static func stopIfBug() {
        if volatile_load_u64(UInt64(UInt(bitPattern: kmem_bug_record()!)) &+ 8) != 0 { kmemBugHaltLoop() }
    }

    /// Spins until it is `cpu`'s turn or the run has finished (returns false then). The CPU next
    /// in line after the one holding the turn reports a BUG after `spinLimit` spins with the same
    /// CPU holding it (the others after four times as many, should that one not).
    static func waitForTurn(_ cpu: Int, run: UnsafeMutablePointer<WorkloadRun>) -> Bool {
        var spins: UInt64 = 0
        let limit = volatile_load_u64(stallAddress) != 0 ? stallSpinLimit : spinLimit
        var holder = volatile_load_u64(turnAddress)
        while true {
            let turn = volatile_load_u64(turnAddress)
            compiler_barrier()
            if turn == UInt64(cpu) { return !run.pointee.finished }
            if turn == UInt64.max { return false }  // finished: the last CPU wrote it
            if turn != holder { holder = turn; spins = 0 }
            spins &+= 1
            if spins & 0xFFF == 0 {
                stopIfBug()
                cpu_relax()  // under single-threaded TCG: the next vCPU runs
            }
            // the CPU next in line reports; the others (4 × longer) only if it cannot
            let next = run.pointee.cpus > 0 ? (turn &+ 1) % UInt64(run.pointee.cpus) : 0
            if spins >= (next == UInt64(cpu) ? limit : limit &* 4) {
                stopIfBug()
                let seq = kernelAllocator?.state.pointee.sequence ?? 0
                kernelBug(.turn, code: UInt64(cpu), sequence: 0, detail: turn, detail2: spins) { s in
                    s.write("cpu "); s.dec(UInt64(cpu)); s.write(" waited "); s.dec(spins)
                    s.write(" spins for cpu "); s.dec(turn); s.write(" to end its turn at seq "); s.dec(seq)
                }
            }
        }
    }

    /// Hands the turn to the next CPU (all of this turn's stores before it: x86 keeps stores in order).
    static func handOn(from cpu: Int, cpus: Int, finished: Bool) {
        compiler_barrier()
        volatile_store_u64(turnAddress, finished ? UInt64.max : UInt64((cpu &+ 1) % cpus))
    }

    /// Runs `cpu`'s turns until the run has finished. `workload` is CPU 0's (made before the
    /// first turn); an AP makes its own at its first turn.
    static func takeTurns(_ cpu: Int, _ allocator: PageAllocator, run: UnsafeMutablePointer<WorkloadRun>) throws(KmemError) {
        var workload: Workload?
        while waitForTurn(cpu, run: run) {
            if cpu != 0 && volatile_load_u64(stallAddress) == UInt64(cpu) { PerCPU.park(cpu) }  // turnstall=
            if workload == nil {
                let w = Workload(allocator: allocator, run: run, cpu: cpu)
                run.pointee.register(w.live, cpu: cpu)
                workload = w
                if cpu == 0 { run.pointee.endPhases(allocator) }
            }
            var n: UInt64 = 0
            while n < batch && !run.pointee.finished {
                try workload!.step()
                run.pointee.countOperation(cpu: cpu)
                run.pointee.afterOperation(allocator)
                run.pointee.endPhases(allocator)
                n &+= 1
            }
            handOn(from: cpu, cpus: run.pointee.cpus, finished: run.pointee.finished)
        }
    }

    /// On CPU 0: runs the workload on every CPU taking turns (CPU 0 alone when the APs do not),
    /// and returns once every AP has left its turns.
    static func runWorkload(_ allocator: PageAllocator, run: UnsafeMutablePointer<WorkloadRun>) throws(KmemError) {
        volatile_store_u64(turnAddress, 0)
        volatile_store_u64(runAddress, UInt64(UInt(bitPattern: run)))
        compiler_barrier()
        volatile_store_u64(startedAddress, 1)
        if free && run.pointee.cpus > 1 {
            try FreeRun.run(0, allocator, run: run)
        } else {
            try takeTurns(0, allocator, run: run)
        }
        var spins: UInt64 = 0
        while volatile_load_u64(leftAddress) < UInt64(run.pointee.cpus &- 1) && spins < spinLimit {
            spins &+= 1
            if spins & 0xFFF == 0 { cpu_relax() }
        }
        if free && run.pointee.cpus > 1 { FreeRun.finish(allocator, run: run) }
    }

    /// On an AP after the bring-up: when the workload is to run on every CPU, waits for it to
    /// start (as long as CPU 0 takes to boot the allocator; it halts in `kmem_bug_halt` if CPU
    /// 0 stops at a BUG first), takes its turns, and returns when the run has finished.
    static func runOnAP(_ cpu: Int) {
        guard enabled else { return }
        var spins: UInt64 = 0
        while volatile_load_u64(startedAddress) == 0 {
            spins &+= 1
            if spins & 0xFFF == 0 { stopIfBug(); cpu_relax() }
        }
        compiler_barrier()
        guard let allocator = kernelAllocator,
              let run = UnsafeMutablePointer<WorkloadRun>(bitPattern: UInt(volatile_load_u64(runAddress))) else { return }
        guard cpu < run.pointee.cpus else { return }
        do {
            if free { try FreeRun.run(cpu, allocator, run: run) } else { try takeTurns(cpu, allocator, run: run) }
        } catch { kmemBug(error) }
        compiler_barrier()
        atomic_add_u64(leftAddress, 1)  // several APs may leave at once
    }
}

import GDBRemote
import BundledKernel
import KernelLayouts

extension GuestSession {
    /// How long ``settle(within:boundary:runStoppedGuest:)`` waits for an operation in progress to end by default.
    public static let settleTimeout: Duration = .seconds(5)

    /// Makes sure the guest is stopped between two allocator operations, so that what is read
    /// is a consistent state.
    ///
    /// The kernel counts operations in progress in the word its descriptor publishes as `BUSY`
    /// (`KmemState.busy`) and calls `kmem_op_end` each time it returns to 0. If it is not 0, a
    /// breakpoint at `kmem_op_end` lets the guest finish that operation (at most `limit`), and
    /// is removed again; the word is checked once more. A kernel that publishes no `BUSY`
    /// (an older build) is read as it is, with a warning in ``warnings``. `boundary` names the
    /// word and the function (the bundled kernel's by default).
    ///
    /// On a guest of several CPUs whose kernel publishes each CPU's in-operation row
    /// (`CPU_OPS`, kernel/README.md "Operations in progress"), the rows say which CPUs are
    /// inside an operation (or hold a lock: lock sections count there too), and only those run
    /// (`vCont;c:THREAD…`, each CPU's thread found by its GS base: ``threadsByCPU()``), together
    /// (one may wait for a lock another holds), until every row is 0: a CPU that reaches
    /// `kmem_op_end` stays stopped there, the others go on. Every other CPU stays where the
    /// stop found it, so the state read is the one of that moment, finished, and a guest
    /// whose CPUs are never all outside the allocator at once settles too. When a busy CPU
    /// has no thread to be named by, or the stub cannot resume threads one by one, every CPU
    /// runs instead (as on one CPU), with a warning.
    ///
    /// A guest that was found *stopped* inside an operation (someone paused it there) is not
    /// run unless `runStoppedGuest` says so, or the session will resume it anyway
    /// (``RestorePolicy/resume``): letting it run would not leave it as it was found.
    ///
    /// A kernel halted at its own BUG (its `kmem_bug` record written) is not run at all: the
    /// point says so (``SettlePoint/bug``) and the state is read as the BUG left it.
    ///
    /// - Throws: ``SessionError/stuck(sequence:busy:after:)`` if the operation does not end in
    ///   time (no verdict is possible then), ``SessionError/stoppedInsideOperation(sequence:busy:)``
    ///   for a guest found stopped mid-operation, ``SessionError/stoppedAtOthersBreakpoint(pc:sequence:busy:)``
    ///   when the run to the operation's end stops at a breakpoint kmemscope did not set (gdb's
    ///   beside it through the proxy: the guest is left there, so gdb sees its hit),
    ///   `.image` if the ELF has no `kmem_op_end`.
    @discardableResult
    public func settle(within limit: Duration = GuestSession.settleTimeout,
                       boundary: OperationBoundary = .bundledKernel,
                       runStoppedGuest: Bool = false) throws -> SettlePoint {
        let sequenceAddress = try info.number(boundary.sequenceKey)
        // A kernel that stopped at its own BUG never reaches kmem_op_end: read it as it is (a
        // post-mortem), never run it, never wait.
        if boundary == .bundledKernel, let bug = try haltedAtBug() {
            let busy = (try? info.number(boundary.busyKey)).flatMap { try? memory.readU64(at: $0) } ?? bug.busy
            return SettlePoint(sequence: try memory.readU64(at: sequenceAddress), betweenOperations: busy == 0,
                               ranToOperationEnd: false, bug: bug)
        }
        guard info[boundary.busyKey] != nil else {
            warnings.append("warning: kmem_info has no \(boundary.busyKey) word (a kernel older than this kmemscope): "
                + "reading without settling to an operation boundary; an operation in progress can show as violations")
            return SettlePoint(sequence: try memory.readU64(at: sequenceAddress), betweenOperations: false, ranToOperationEnd: false)
        }
        let busyAddress = try info.number(boundary.busyKey)
        let busy = try memory.readU64(at: busyAddress)
        // Several CPUs: the rows say which are inside (nil: one CPU, or no rows published).
        let busyCPUs = boundary == .bundledKernel ? try self.busyCPUs() : nil
        if busy == 0 && busyCPUs?.isEmpty != false {
            return SettlePoint(sequence: try memory.readU64(at: sequenceAddress), betweenOperations: true, ranToOperationEnd: false)
        }
        if found == .stopped && policy != .resume && !runStoppedGuest {
            throw SessionError.stoppedInsideOperation(sequence: try memory.readU64(at: sequenceAddress),
                                                      busy: max(busy, busyCPUs?.values.reduce(0, &+) ?? 0))
        }
        let opEnd: UInt64
        do {
            opEnd = try kernel.symbol(boundary.endSymbol).address.rawValue
        } catch {
            throw SessionError.image(error)
        }
        var cpus: [Int: String]?
        if let busyCPUs, !busyCPUs.isEmpty { cpus = try cpuByCPU(busyCPUs) }
        return try runToBoundary(cpus, opEnd: opEnd, boundary: boundary, sequenceAddress: sequenceAddress,
                                 busyAddress: busyAddress, limit: limit)
    }

    /// The CPUs inside an operation now, by number, with their depth (`CPUOperation.busy`):
    /// nil on a guest of one CPU or a kernel that publishes no rows.
    func busyCPUs() throws -> [Int: UInt64]? {
        guard bootCPUThread != nil else { return nil }
        let rows = try CPUActivityDecoder(info: info, memory: memory).operations()
        guard !rows.isEmpty else { return nil }
        var inside: [Int: UInt64] = [:]
        for (cpu, row) in rows.enumerated() where row.busy != 0 { inside[cpu] = row.busy }
        return inside
    }

    /// The threads of the CPUs in `busy` (CPU number → thread), to be resumed alone
    /// (`vCont;c:THREAD…`); nil when one of them has no thread (its GS base names no CPU's
    /// area) or the stub lists no `vCont` continue: then the whole guest runs, and a warning says why.
    func cpuByCPU(_ busy: [Int: UInt64]) throws -> [Int: String]? {
        let threads = try threadsByCPU()
        let missing = busy.keys.filter { threads[$0] == nil }.sorted()
        guard missing.isEmpty, target.vContActions.contains("c") else {
            let why = !missing.isEmpty
                ? "no thread of the stub runs cpu \(missing.map(String.init).joined(separator: ", ")) (no GS base is its per-CPU area)"
                : "the stub cannot continue one thread alone (its vCont? lists no c)"
            warnings.append("warning: \(why): every CPU ran to the operation boundary, not only the CPUs inside an operation, "
                + "so the state read is later than the moment the guest was stopped")
            return nil
        }
        return threads.filter { busy[$0.key] != nil }
    }

    /// Runs the guest with a breakpoint at `opEnd` (and at `kmem_bug_halt`) until nothing is
    /// inside an operation, at most `limit`: only the CPUs of `cpus` (number → thread), each
    /// time those whose rows are still not 0, or, when `cpus` is nil, the whole guest until `BUSY` is 0.
    private func runToBoundary(_ cpus: [Int: String]?, opEnd: UInt64, boundary: OperationBoundary,
                               sequenceAddress: UInt64, busyAddress: UInt64, limit: Duration) throws -> SettlePoint {
        try target.setBreakpoint(at: opEnd)
        breakpoints.insert(opEnd)
        // an operation that ends in a BUG never reaches kmem_op_end: stop at kmem_bug_halt too
        let halt = boundary == .bundledKernel && info["BUG_HALT"] != nil ? try? info.number("BUG_HALT") : nil
        if let halt { try addBreakpoint(at: halt) }
        defer { if let halt { try? removeBreakpoint(at: halt) } }
        func removeOpEnd() throws {
            try target.removeBreakpoint(at: opEnd)
            breakpoints.remove(opEnd)
        }
        let deadline = ContinuousClock.now + limit
        var pending = cpus ?? [:]
        var ran: Set<Int> = []
        var inside = true
        while inside {
            let left = ContinuousClock.now.duration(to: deadline)
            let stop: StopReply
            do {
                guard left > .zero else { throw GDBRemoteError.timedOut(request: "stop reply", after: limit) }
                if cpus != nil {
                    // Together: one may wait for a lock another holds. The others stay stopped.
                    ran.formUnion(pending.keys)
                    let threads = pending.keys.sorted().compactMap { pending[$0] }
                    stop = try target.continueUntilStop(try VContRequest.continue(threads: threads), timeout: left)
                } else {
                    stop = try target.continueUntilStop(timeout: left)
                }
            } catch GDBRemoteError.timedOut {
                if target.isRunning { _ = try target.interrupt() }
                let sequence = try memory.readU64(at: sequenceAddress)
                let busy = try memory.readU64(at: busyAddress)
                try removeOpEnd()
                throw SessionError.stuck(sequence: sequence, busy: busy, after: limit)
            }
            // On several CPUs any of them may be the one inside the operation (the workload
            // runs on every CPU): register reads from here on address the CPU that stopped.
            if bootCPUThread != nil, let thread = stop.thread {
                try target.selectThread(thread)
                selectedThread = thread
            }
            if let cpus {
                // A CPU whose row is 0 now stays stopped (at kmem_op_end); the others go on.
                let still = try busyCPUs() ?? [:]
                pending = cpus.filter { still[$0.key] != nil }
                inside = !still.isEmpty
            } else {
                inside = try memory.readU64(at: busyAddress) != 0
            }
            if halt != nil, let bug = try haltedAtBug() {
                try removeOpEnd()
                let busy = try memory.readU64(at: busyAddress)
                return SettlePoint(sequence: try memory.readU64(at: sequenceAddress), betweenOperations: busy == 0,
                                   ranToOperationEnd: false, bug: bug)
            }
            // Still inside: a stop short of kmem_op_end is someone else's breakpoint (gdb's,
            // through the proxy). Continuing from it would stop there again at once (QEMU
            // re-reports a breakpoint at the PC it resumes from) until the deadline; stepping
            // over it would take its hit from its owner. Leave the guest there and say so.
            if inside, stop.signal == 5, stop.watchpointAddress == nil,
               let pc = try? target.register("rip"), pc != opEnd, pc != halt, !breakpoints.contains(pc) {
                try removeOpEnd()
                throw SessionError.stoppedAtOthersBreakpoint(pc: pc, sequence: try memory.readU64(at: sequenceAddress),
                                                             busy: try memory.readU64(at: busyAddress))
            }
            // Only the CPUs that run change their rows, so a CPU inside with none left to run
            // means a row that rose by itself (damaged): nothing would ever end it.
            if inside, cpus != nil, pending.isEmpty {
                try removeOpEnd()
                throw SessionError.stuck(sequence: try memory.readU64(at: sequenceAddress),
                                         busy: try memory.readU64(at: busyAddress), after: limit)
            }
        }
        try removeOpEnd()
        return SettlePoint(sequence: try memory.readU64(at: sequenceAddress), betweenOperations: true, ranToOperationEnd: true,
                           cpusRun: cpus == nil ? nil : ran.sorted())
    }
}

import GDBRemote
import KernelLayouts

extension GuestSession {
    /// How long ``settle(within:)`` waits for an operation in progress to end by default.
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
        var busy = try memory.readU64(at: busyAddress)
        if busy == 0 {
            return SettlePoint(sequence: try memory.readU64(at: sequenceAddress), betweenOperations: true, ranToOperationEnd: false)
        }
        if found == .stopped && policy != .resume && !runStoppedGuest {
            throw SessionError.stoppedInsideOperation(sequence: try memory.readU64(at: sequenceAddress), busy: busy)
        }
        let opEnd: UInt64
        do {
            opEnd = try kernel.symbol(boundary.endSymbol).address.rawValue
        } catch {
            throw SessionError.image(error)
        }
        try target.setBreakpoint(at: opEnd)
        breakpoints.insert(opEnd)
        // an operation that ends in a BUG never reaches kmem_op_end: stop at kmem_bug_halt too
        let halt = boundary == .bundledKernel && info["BUG_HALT"] != nil ? try? info.number("BUG_HALT") : nil
        if let halt { try addBreakpoint(at: halt) }
        defer { if let halt { try? removeBreakpoint(at: halt) } }
        let deadline = ContinuousClock.now + limit
        var stop: StopReply?
        while busy != 0 {
            let left = ContinuousClock.now.duration(to: deadline)
            do {
                guard left > .zero else { throw GDBRemoteError.timedOut(request: "stop reply", after: limit) }
                stop = try target.continueUntilStop(timeout: left)
            } catch GDBRemoteError.timedOut {
                if target.isRunning { _ = try target.interrupt() }
                let sequence = try memory.readU64(at: sequenceAddress)
                busy = try memory.readU64(at: busyAddress)
                try target.removeBreakpoint(at: opEnd)
                breakpoints.remove(opEnd)
                throw SessionError.stuck(sequence: sequence, busy: busy, after: limit)
            }
            // On several CPUs any of them may be the one inside the operation (the workload
            // takes turns on every CPU): register reads from here on address the CPU that stopped.
            if bootCPUThread != nil, let thread = stop?.thread {
                try target.selectThread(thread)
                selectedThread = thread
            }
            busy = try memory.readU64(at: busyAddress)
            if halt != nil, let bug = try haltedAtBug() {
                try target.removeBreakpoint(at: opEnd)
                breakpoints.remove(opEnd)
                return SettlePoint(sequence: try memory.readU64(at: sequenceAddress), betweenOperations: busy == 0,
                                   ranToOperationEnd: false, bug: bug)
            }
            // Still inside: a stop short of kmem_op_end is someone else's breakpoint (gdb's,
            // through the proxy). Continuing from it would stop there again at once (QEMU
            // re-reports a breakpoint at the PC it resumes from) until the deadline; stepping
            // over it would take its hit from its owner. Leave the guest there and say so.
            if busy != 0, stop?.signal == 5, stop?.watchpointAddress == nil,
               let pc = try? target.register("rip"), pc != opEnd, pc != halt, !breakpoints.contains(pc) {
                try target.removeBreakpoint(at: opEnd)
                breakpoints.remove(opEnd)
                throw SessionError.stoppedAtOthersBreakpoint(pc: pc, sequence: try memory.readU64(at: sequenceAddress), busy: busy)
            }
        }
        try target.removeBreakpoint(at: opEnd)
        breakpoints.remove(opEnd)
        return SettlePoint(sequence: try memory.readU64(at: sequenceAddress), betweenOperations: true, ranToOperationEnd: true)
    }
}

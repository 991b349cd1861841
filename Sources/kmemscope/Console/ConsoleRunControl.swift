import ArgumentParser
import GDBRemote
import KernelLayouts
import KernelSession

/// The console's run control: `continue`, `stop`, `until SEQ`, `next-checkpoint`.
extension Console {
    /// How long `until` and `next-checkpoint` wait by default before stopping the guest again.
    static let defaultWait = 60

    /// `continue`: the guest runs until `stop`, a view (which stops it while it reads) or `quit`.
    func resume() throws -> String {
        if let waiting = session.unbooted {
            do {
                if !waiting.target.isRunning { try waiting.target.resume() }
            } catch {
                throw SessionError(wrapping: error, address: waiting.address.description)
            }
            return "the guest runs: the kernel boots (`stop` stops it; views stop it while they read)"
        }
        let guest = try session.stoppedGuest(resumeAfter: false)
        do {
            try guest.target.resume()
        } catch {
            throw SessionError(wrapping: error, address: guest.address.description)
        }
        return "the guest runs (`stop` stops it; views stop it while they read)"
    }

    /// `stop`: stops the guest at an allocator operation boundary and says where.
    func stop() throws -> String {
        let wasRunning = session.isRunning
        if session.unbooted != nil, try session.adoptBooted() == nil {
            return (wasRunning ? "stopped" : "the guest was already stopped") + "; the kernel has not published kmem_info yet (not booted)"
        }
        let guest = try session.stoppedGuest(resumeAfter: false)
        let point = try guest.read { s in try s.settle(runStoppedGuest: true) }
        return (wasRunning ? "" : "the guest was already stopped; ") + point.text
    }

    /// `until SEQ [SECONDS]`: writes SEQ into `kmem_stop_seq` (the kernel calls
    /// `kmem_checkpoint` once its sequence reaches it, and clears it) and runs the guest with a
    /// breakpoint there. Workload checkpoints on the way are passed. If SEQ is not reached in
    /// time (the workload ended, say) the guest is stopped again and `kmem_stop_seq` cleared.
    func until(_ arguments: [String]) throws -> String {
        guard let text = arguments.first, let target = Self.number(text), arguments.count <= 2 else {
            throw ValidationError("usage: until SEQ [SECONDS] (SEQ decimal or 0x hex)")
        }
        let wait = try Self.seconds(arguments.dropFirst().first)
        if let booted = try boot(stopAt: target, wait: wait) {
            guard case .reached(let s) = booted else { return booted.text }
            let now = try s.read { s in try s.memory.readU64(at: try s.info.number("SEQUENCE")) }
            if now >= target {
                return "the kernel booted; reached: " + (try s.read { s in try s.settle(runStoppedGuest: true) }).text
            }
            return "the kernel booted; " + (try until(arguments))
        }
        let guest = try session.stoppedGuest(resumeAfter: false)
        return try guest.read { s -> String in
            let sequenceAddress = try s.info.number("SEQUENCE")
            let start = try s.memory.readU64(at: sequenceAddress)
            guard target > start else { return "the allocator is already at sequence \(start)" }
            let stopSequence = try s.info.number("STOP_SEQ")
            let checkpoint = try s.kernel.symbol("kmem_checkpoint").address.rawValue
            try s.target.writeMemory(at: stopSequence, bytes: Self.littleEndian(target))
            try s.addBreakpoint(at: checkpoint)
            let deadline = ContinuousClock.now + .seconds(wait)
            var now = start
            var passed = 0
            do {
                // each stop is a checkpoint (a workload phase, or ours): bounded by the deadline
                while now < target {
                    let left = ContinuousClock.now.duration(to: deadline)
                    guard left > .zero else { throw GDBRemoteError.timedOut(request: "sequence \(target)", after: .seconds(wait)) }
                    try s.runUntilStop(limit: left)
                    now = try s.memory.readU64(at: sequenceAddress)
                    if now < target { passed += 1 }
                }
            } catch {
                if s.target.isRunning { _ = try? s.target.interrupt() }
                try? s.target.writeMemory(at: stopSequence, bytes: Self.littleEndian(0))
                try? s.removeBreakpoint(at: checkpoint)
                guard case GDBRemoteError.timedOut = error else { throw error }
                let at = (try? s.memory.readU64(at: sequenceAddress)).map(String.init) ?? "?"
                return "sequence \(target) not reached within \(wait) s: stopped at sequence \(at) (has the workload ended?)"
            }
            try s.removeBreakpoint(at: checkpoint)
            let point = try s.settle(runStoppedGuest: true)
            return "reached: " + point.text + (passed > 0 ? " (passed \(passed) workload checkpoint\(passed == 1 ? "" : "s"))" : "")
        }
    }

    /// `next-checkpoint [SECONDS]`: runs the guest until the next `kmem_checkpoint` call and
    /// says which phase (its argument) and sequence.
    func nextCheckpoint(_ arguments: [String]) throws -> String {
        guard arguments.count <= 1 else { throw ValidationError("usage: next-checkpoint [SECONDS]") }
        let wait = try Self.seconds(arguments.first)
        if let booted = try boot(stopAt: nil, wait: wait) {
            guard case .reached(let s) = booted else { return booted.text }
            return "the kernel booted; " + (try s.read { s in try Self.checkpointText(s) })
        }
        let guest = try session.stoppedGuest(resumeAfter: false)
        return try guest.read { s -> String in
            let checkpoint = try s.kernel.symbol("kmem_checkpoint").address.rawValue
            try s.addBreakpoint(at: checkpoint)
            do {
                try s.runUntilStop(limit: .seconds(wait))
            } catch GDBRemoteError.timedOut {
                try? s.removeBreakpoint(at: checkpoint)
                let at = (try? s.memory.readU64(at: try s.info.number("SEQUENCE"))).map(String.init) ?? "?"
                return "no checkpoint within \(wait) s: stopped at sequence \(at) (has the workload ended?)"
            } catch {
                try? s.removeBreakpoint(at: checkpoint)
                throw error
            }
            try s.removeBreakpoint(at: checkpoint)
            return try Self.checkpointText(s)
        }
    }

    /// Where a guest stopped at `kmem_checkpoint`'s entry is: the phase (its first argument,
    /// in rdi) and the sequence.
    static func checkpointText(_ s: GuestSession) throws -> String {
        let phase = try? s.target.register("rdi")
        let sequence = try s.memory.readU64(at: try s.info.number("SEQUENCE"))
        return "at kmem_checkpoint" + (phase.map { " (phase \($0))" } ?? "") + ", sequence \(sequence)"
    }

    /// What running a not-yet-booted guest into its kernel gave.
    enum Boot {
        /// Stopped at a checkpoint with the descriptor published: the session.
        case reached(GuestSession)
        /// Not there within the time given (the guest is stopped again).
        case notReached(String)

        var text: String {
            switch self {
            case .reached: return "the kernel booted"
            case .notReached(let text): return text
            }
        }
    }

    /// Before the kernel has booted (`boot --stopped`): runs the guest into it and on to the
    /// checkpoint at `stopAt` (or the first one), then makes the session. Nil when the kernel
    /// had booted already (the caller goes on as usual).
    func boot(stopAt: UInt64?, wait: Int) throws -> Boot? {
        guard let waiting = session.unbooted else { return nil }
        if let booted = try session.adoptBooted() { _ = booted; return nil }
        do {
            try waiting.runToCheckpoint(stopAt: stopAt, limit: .seconds(wait))
        } catch GDBRemoteError.timedOut(let request, _) where request == GuestSession.runTimeoutRequest {
            return .notReached("the kernel did not reach \(stopAt.map { "sequence \($0)" } ?? "a checkpoint") within \(wait) s: stopped again")
        } catch {
            throw SessionError(wrapping: error, address: waiting.address.description)
        }
        guard let booted = try session.adoptBooted() else {
            throw SessionError.other("stopped at kmem_checkpoint, but the kernel has not published kmem_info: is --elf the kernel this guest boots?")
        }
        return .reached(booted)
    }

    /// A decimal or `0x` hexadecimal number.
    static func number(_ text: String) -> UInt64? {
        text.lowercased().hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }

    static func seconds(_ text: String?) throws -> Int {
        guard let text else { return defaultWait }
        guard let n = Int(text), (1...86_400).contains(n) else { throw ValidationError("SECONDS must be 1…86400, not \(text)") }
        return n
    }

    static func littleEndian(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian, Array.init)
    }
}

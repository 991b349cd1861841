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
            // kmem_checkpoint(phase): the phase is the first argument, in rdi at the entry
            let phase = try? s.target.register("rdi")
            let sequence = try s.memory.readU64(at: try s.info.number("SEQUENCE"))
            return "at kmem_checkpoint" + (phase.map { " (phase \($0))" } ?? "") + ", sequence \(sequence)"
        }
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

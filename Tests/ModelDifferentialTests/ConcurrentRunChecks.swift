import AllocatorModel
import BundledChecks
import BundledState
import KernelHarness
import KernelMM
import Testing

/// What every test of several host threads in one arena checks once they have all returned
/// (kernel/README.md "Operations in progress", "Per-CPU cache locks", "The order of a log"): no
/// CPU inside an operation, every zone, cache and heap lock free, the self-check and the verifier
/// clean, every sequence number since `start` taken once, and the model's replay of the
/// interleaved log ending in KernelMM's state. Returns the log, for the caller's own checks.
@discardableResult
func expectQuiescentAndReplayClean(_ arena: HostArena, from start: KernelSnapshot, cpus: Int) throws -> [OpLogRecord] {
    let a = arena.allocator
    #expect(a.state.pointee.busy == 0, "no CPU inside an operation")
    for c in 0..<cpus { #expect(a.cpuOperation(c).pointee.busy == 0 && a.cpuOperation(c).pointee.parentSequence == 0) }
    for z in 0..<ZoneKind.count {
        #expect(!TicketLock(a.zoneLockWord(z)).isLocked, "zone \(z)'s lock free")
        for c in 0..<Kmem.maxCPUs { #expect(!TicketLock(a.perCPULockWord(a.perCPU(z, cpu: c))).isLocked, "cpu \(c) zone \(z)'s cache lock free") }
    }
    #expect(!TicketLock(a.heapLockWord).isLocked, "the heap lock free")
    #expect(arena.check().passed, "\(arena.check().text)")

    let end = try arena.snapshot()
    let verdict = Verifier(end).run()
    #expect(verdict.passed, "\(verdict.text)")
    let log = try arena.log(from: start.sequence + 1, through: end.sequence)
    // every number taken once: the log holds each sequence from the start to the end
    #expect(log.count == Int(end.sequence - start.sequence))
    #expect(Set(log.map(\.sequence)).count == log.count)
    let replay = Replay.verify(from: start, to: end, log: log)
    #expect(replay.passed, "\(replay.text)")
    return log
}

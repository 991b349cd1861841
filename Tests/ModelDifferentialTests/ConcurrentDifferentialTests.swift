import AllocatorModel
import BundledChecks
import Foundation
import KernelHarness
import KernelMM
import Testing

/// KernelMM with several CPUs inside it at once (kernel/README.md "Operations in progress",
/// "The order of a log"): real host threads, each a CPU (`onCPU(n)`), hammer order-0 and small
/// allocations, frees, drains, `kmalloc` and `kfree` on one arena with no turns. Afterwards the
/// self-check and the verifier pass, no CPU is left inside an operation, every lock is free, the
/// sequence numbers are unique and complete, and the model, replaying the interleaved log in
/// the order the contract gives, ends in the state KernelMM is in.
@Suite("Several CPUs at once: KernelMM against the model", .serialized)
struct ConcurrentDifferentialTests {
    /// What the threads share: the arena, and the errors they met (under `lock`).
    final class Shared: @unchecked Sendable {
        let arena: HostArena
        let lock = NSLock()
        var errors: [String] = []
        var operations = 0
        init(_ arena: HostArena) { self.arena = arena }
        func fail(_ what: String) { lock.lock(); errors.append(what); lock.unlock() }
        func count(_ n: Int) { lock.lock(); operations += n; lock.unlock() }
    }


    /// One CPU's stream: its own live pages and heap objects, freed on the CPU that took them.
    static func hammer(_ s: Shared, cpu: Int, rounds: Int) {
        let a = s.arena.allocator.onCPU(cpu)
        var rng = UInt64(cpu + 1) &* 0x9E37_79B9_7F4A_7C15 | 1
        func next(_ n: Int) -> Int {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
            return Int(rng % UInt64(n))
        }
        var pages: [(pfn: PFN, order: Int)] = []
        var objects: [UInt64] = []
        do {
            for _ in 0..<rounds {
                switch next(20) {
                case 0..<7 where pages.count < 200:
                    let order = next(4) == 0 ? next(3) : 0
                    let request = AllocationRequest(order: order, migratetype: next(2) == 0 ? .unmovable : .movable,
                                                    zone: [.any, .any, .dma32][next(3)])
                    if let p = try a.allocate(request) { pages.append((p, order)) }
                case 7..<12 where !pages.isEmpty:
                    let b = pages.remove(at: next(pages.count))
                    try a.free(b.pfn, order: b.order)
                case 12..<16 where objects.count < 300:
                    let size = UInt64(1 + next(next(8) == 0 ? 6000 : 600))
                    let p = try a.kmalloc(size: size)
                    if p != 0 { objects.append(p) }
                case 16..<19 where !objects.isEmpty:
                    try a.kfree(objects.remove(at: next(objects.count)))
                case 19:
                    try a.drainPerCPU(a.zone(next(3)), all: next(2) == 0)
                default: break
                }
            }
            // half of what it holds goes back, so caches and slabs end partly filled
            for b in pages.prefix(pages.count / 2) { try a.free(b.pfn, order: b.order) }
            for o in objects.prefix(objects.count / 2) { try a.kfree(o) }
        } catch {
            s.fail("cpu \(cpu): \(error)")
        }
        s.count(rounds)
    }

    @Test(arguments: [4, 8])
    func threadsAtOnceReplayClean(threads: Int) throws {
        let arena = try HostArena.differential(large: true)
        let start = try arena.snapshot()
        let s = Shared(arena)
        let rounds = 2_000
        HostThreads.run(threads) { t in Self.hammer(s, cpu: t, rounds: rounds) }
        #expect(s.errors.isEmpty, "\(s.errors)")
        #expect(s.operations == threads * rounds)

        let log = try expectQuiescentAndReplayClean(arena, from: start, cpus: threads)
        #expect(Set(log.map(\.cpu)) == Set((0..<threads).map(UInt8.init)))
    }
}

/// `state-fields` reads every CPU's in-operation row and the heap lock (kernel/README.md
/// "Operations in progress"): between operations (`KmemState.busy` 0) a CPU whose own `busy`
/// or `parentSequence` is not 0, or a held heap lock, is a violation; put back, clean again.
@Suite("Each CPU's in-operation row and the heap lock in state-fields")
struct CPUOperationStateFieldTests {
    @Test func aBusyCPUOrAHeldHeapLockBetweenOperationsIsReported() throws {
        let arena = try HostArena.differential()
        let a = arena.allocator
        _ = try a.onCPU(3).kmalloc(size: 100)
        #expect(Verifier(try arena.snapshot()).run().passed)
        a.cpuOperation(3).pointee.busy = 1
        var report = Verifier(try arena.snapshot()).run()
        #expect(report.failedChecks.contains(.stateFields) && report.text.contains("CPU 3's CPUOperation.busy"), "\(report.text)")
        a.cpuOperation(3).pointee.busy = 0
        a.cpuOperation(5).pointee.parentSequence = 7
        report = Verifier(try arena.snapshot()).run()
        #expect(report.failedChecks.contains(.stateFields) && report.text.contains("CPU 5's"), "\(report.text)")
        a.cpuOperation(5).pointee.parentSequence = 0
        a.heapLockWord.pointee.next &+= 1
        report = Verifier(try arena.snapshot()).run()
        #expect(report.failedChecks.contains(.stateFields) && report.text.contains("HeapState.lock"), "\(report.text)")
        a.heapLockWord.pointee.next &-= 1
        #expect(Verifier(try arena.snapshot()).run().passed)
    }
}

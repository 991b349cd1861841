import AllocatorModel
import BundledChecks
import BundledState
import Foundation
import KernelHarness
import KernelMM
import Testing

/// Cache hits under their own CPU's cache lock only, and claims on frames sitting in other
/// CPUs' caches (kernel/README.md "Per-CPU cache locks"): four host threads, each a CPU, hammer
/// order-0 allocate+free pairs (nearly all hits), handing the frames they free to a fifth, which
/// claims them (`allocateFrame`, `reserveRange`) while they sit on the freeing CPU's list. Then
/// every lock is free, the self-check and the verifier pass, every sequence number was taken
/// once, and the model's replay of the log ends in KernelMM's state.
@Suite("Cache hits and claims at once: per-CPU cache locks", .serialized)
struct PerCPUClaimConcurrencyTests {
    /// What the threads share: the arena, frames just parked in a cache, counts and errors.
    final class Shared: @unchecked Sendable {
        let arena: HostArena
        let lock = NSLock()
        var parked: [PFN] = []
        var errors: [String] = []
        var claimed = 0
        var reserved = 0
        var hittersDone = 0
        init(_ arena: HostArena) { self.arena = arena }
        func fail(_ what: String) { lock.lock(); errors.append(what); lock.unlock() }
        func park(_ p: PFN) { lock.lock(); if parked.count < 64 { parked.append(p) }; lock.unlock() }
        func takeParked() -> PFN? { lock.lock(); defer { lock.unlock() }; return parked.popLast() }
        /// Every hitter has finished and every offered frame was taken.
        var drained: Bool { lock.lock(); defer { lock.unlock() }; return hittersDone == PerCPUClaimConcurrencyTests.hitters && parked.isEmpty }
        func hitterDone() { lock.lock(); hittersDone += 1; lock.unlock() }
        func add(claimed c: Int, reserved r: Int) { lock.lock(); claimed += c; reserved += r; lock.unlock() }
    }

    static let hitters = 4
    static let pairs = 4_000

    /// A hitter: order-0 pairs on its own CPU, a few frames kept live so its caches hold some;
    /// every eighth free is offered to the claimer.
    static func hit(_ s: Shared, cpu: Int) {
        let a = s.arena.allocator.onCPU(cpu)
        var live: [PFN] = []
        do {
            for i in 0..<pairs {
                let mt: Migratetype = i & 1 == 0 ? .movable : .unmovable
                guard let p = try a.allocate(AllocationRequest(order: 0, migratetype: mt)) else { continue }
                live.append(p)
                if live.count > 8 || i & 3 == 0 {
                    let f = live.removeFirst()
                    try a.free(f, order: 0)
                    if i & 7 == 0 { s.park(f) }
                }
            }
            for f in live { try a.free(f, order: 0) }
        } catch {
            s.fail("cpu \(cpu): \(error)")
        }
        s.hitterDone()
    }

    /// The claimer (CPU `hitters`): takes offered frames with `allocateFrame` (freeing them again
    /// on its own CPU) or `reserveRange` of one frame (given back with `unreserve`), while they
    /// may still sit on the offering CPU's list.
    static func claim(_ s: Shared) {
        let a = s.arena.allocator.onCPU(hitters)
        var claimed = 0, reserved = 0, turn = 0
        do {
            while !s.drained {
                guard let p = s.takeParked() else { sched_yield(); continue }
                turn += 1
                if turn & 1 == 0 {
                    if try a.allocateFrame(p, migratetype: .movable, owner: 0xc1a1) {
                        claimed += 1
                        try a.free(p, order: 0)
                    }
                } else if try a.reserveRange(start: p, count: 1, owner: 0xc1a2) {
                    reserved += 1
                    try a.unreserve(start: p, count: 1)
                }
            }
        } catch {
            s.fail("claimer: \(error)")
        }
        s.add(claimed: claimed, reserved: reserved)
    }

    @Test func hitsAndClaimsOnOtherCPUsCachesReplayClean() throws {
        let arena = try HostArena.differential(large: true)
        let start = try arena.snapshot()
        let s = Shared(arena)
        HostThreads.run(Self.hitters + 1) { t in
            if t == Self.hitters { Self.claim(s) } else { Self.hit(s, cpu: t) }
        }
        #expect(s.errors.isEmpty, "\(s.errors)")
        // the claims did take frames other CPUs had just parked (not only misses)
        #expect(s.claimed + s.reserved > 20, "claimed \(s.claimed), reserved \(s.reserved)")

        try expectQuiescentAndReplayClean(arena, from: start, cpus: Self.hitters + 1)
    }
}

/// `state-fields` reads every per-CPU cache's lock (kernel/README.md "Per-CPU cache locks"):
/// one held between operations is a violation naming the CPU and zone; released, clean again.
@Suite("Per-CPU cache locks in state-fields")
struct PerCPULockStateFieldTests {
    @Test func aHeldCacheLockBetweenOperationsIsReported() throws {
        let arena = try HostArena.differential()
        let a = arena.allocator
        _ = try a.onCPU(2).allocate(AllocationRequest(order: 0, migratetype: .movable))
        #expect(Verifier(try arena.snapshot()).run().passed)
        let word = a.perCPULockWord(a.perCPU(1, cpu: 2))
        word.pointee.next &+= 1
        let report = Verifier(try arena.snapshot()).run()
        #expect(report.failedChecks.contains(.stateFields) && report.text.contains("CPU 2's PerCPUPages.lock"), "\(report.text)")
        word.pointee.next &-= 1
        #expect(Verifier(try arena.snapshot()).run().passed)
    }
}

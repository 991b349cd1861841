import AllocatorModel
import BundledChecks
import BundledState
import KernelHarness
import KernelMM
import Testing

/// KernelMM driven as four CPUs (`onCPU`): order-0 traffic freed on other CPUs than it was
/// allocated on, drains and claims of frames on other CPUs' lists; the verifier finds every
/// CPU's cache consistent and the model, replaying each entry on its CPU, ends in the state
/// KernelMM is in (kernel/README.md "Per-CPU caches").
@Suite("Per-CPU caches: KernelMM against the model")
struct PerCPUDifferentialTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func fourCPUsReplayClean(seed: UInt64) throws {
        let arena = try HostArena.differential(large: true)
        let start = try arena.snapshot()
        var rng = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next(_ n: Int) -> Int {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
            return Int(rng % UInt64(n))
        }
        var live: [(pfn: PFN, order: Int)] = []
        var cpusUsed = Set<UInt8>()
        for _ in 0..<3000 {
            let cpu = arena.allocator.onCPU(next(4))
            switch next(10) {
            case 0..<5:
                let order = next(3) == 0 ? next(3) : 0
                let request = AllocationRequest(order: order, migratetype: next(2) == 0 ? .unmovable : .movable,
                                                zone: [.any, .any, .dma32][next(3)])
                if let p = try cpu.allocate(request) { live.append((p, order)) }
            case 5..<9:
                guard !live.isEmpty else { continue }
                let b = live.remove(at: next(live.count))
                try cpu.free(b.pfn, order: b.order)
            case 9:
                if next(2) == 0 {
                    try cpu.drainPerCPU(arena.allocator.zone(next(3)), all: next(2) == 0)
                } else {
                    // claim a frame cached on some CPU's list (any CPU's, from this one)
                    let z = next(3), c = next(4), slot = next(2)
                    let tail = arena.allocator.perCPU(z, cpu: c).pointee.tails[slot]
                    if tail != UInt64.max, try cpu.allocateFrame(PFN(tail)) { live.append((PFN(tail), 0)) }
                }
            default: break
            }
            if let e = arena.allocator.logEntry(arena.sequence) { cpusUsed.insert(e.cpu) }
        }
        #expect(cpusUsed.count == 4, "every CPU ran operations")
        #expect(arena.check().passed, "\(arena.check().text)")
        let end = try arena.snapshot()
        #expect((0..<3).contains { z in end.zones[z].perCPU.filter { $0.count > 0 }.count >= 2 }, "several CPUs' caches hold frames")
        // `frame` names the CPU whose cache lists a frame
        for z in end.zones { for cache in z.perCPU { for head in cache.heads where head != KernelSnapshot.none {
            #expect(FrameReport(end, pfn: head)?.perCPU == cache.cpu)
        } } }
        let verdict = Verifier(end).run()
        #expect(verdict.passed, "\(verdict.text)")
        let log = try arena.log(from: start.sequence + 1, through: end.sequence)
        #expect(Set(log.map(\.cpu)) == [0, 1, 2, 3])
        let replay = Replay.verify(from: start, to: end, log: log)
        #expect(replay.passed, "\(replay.text)")
    }
}

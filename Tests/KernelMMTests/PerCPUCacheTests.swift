import KernelHarness
import Testing
@testable import KernelMM

/// One order-0 cache per CPU per zone (kernel/README.md "Per-CPU caches"), with the host's
/// "current CPU" set per handle (`PageAllocator.onCPU`).
@Suite("Per-CPU caches")
struct PerCPUCacheTests {
    /// An allocation on CPU 1 refills and uses CPU 1's cache only; a free on CPU 2 parks on
    /// CPU 2's; each entry names its CPU.
    @Test func eachCPUUsesItsOwnCache() throws {
        let a = try HostArena()
        let cpu1 = a.allocator.onCPU(1), cpu2 = a.allocator.onCPU(2)
        let p = try #require(try cpu1.allocate(AllocationRequest(order: 0)))
        let z = a.zoneOf(p)
        let c0 = a.allocator.perCPU(z, cpu: 0), c1 = a.allocator.perCPU(z, cpu: 1), c2 = a.allocator.perCPU(z, cpu: 2)
        #expect(c1.pointee.count == c1.pointee.batch - 1, "CPU 1 refilled a batch and handed one out")
        #expect(c0.pointee.count == 0 && c2.pointee.count == 0)
        #expect(a.allocator.logEntry(a.sequence)?.cpu == 1)
        try cpu2.free(p, order: 0)
        #expect(c2.pointee.count == 1 && c2.pointee.heads[Int(a.allocator.meta(p).pointee.migratetype)] == p.raw)
        #expect(a.allocator.logEntry(a.sequence)?.cpu == 2)
        #expect(a.allocator.perCPUCount(zone: z) == c1.pointee.count + 1)
        #expect(a.check().passed, "\(a.check().text)")
    }

    /// `drainPerCPU` drains the calling CPU's cache of the zone and no other.
    @Test func drainTouchesOnlyTheCallersCache() throws {
        let a = try HostArena()
        let cpu1 = a.allocator.onCPU(1), cpu3 = a.allocator.onCPU(3)
        let p = try #require(try cpu1.allocate(AllocationRequest(order: 0)))
        let q = try #require(try cpu3.allocate(AllocationRequest(order: 0)))
        let z = a.zoneOf(p)
        #expect(a.zoneOf(q) == z)
        try cpu1.free(p, order: 0)
        try cpu3.free(q, order: 0)
        let before3 = a.allocator.perCPU(z, cpu: 3).pointee.count
        try cpu1.drainPerCPU(a.allocator.zone(z), all: true)
        #expect(a.allocator.perCPU(z, cpu: 1).pointee.count == 0)
        #expect(a.allocator.perCPU(z, cpu: 3).pointee.count == before3 && before3 > 0)
        #expect(a.check().passed, "\(a.check().text)")
    }

    /// A claim (`allocateFrame`) takes a frame off another CPU's list, whichever it is.
    @Test func aClaimTakesAFrameOffAnotherCPUsList() throws {
        let a = try HostArena()
        let cpu2 = a.allocator.onCPU(2)
        var taken: [PFN] = []
        for _ in 0..<4 { taken.append(try #require(try cpu2.allocate(AllocationRequest(order: 0)))) }
        for q in taken { try cpu2.free(q, order: 0) }  // four frames on CPU 2's list (high is above 4)
        let p = taken[0]
        let z = a.zoneOf(p)
        let c2 = a.allocator.perCPU(z, cpu: 2)
        let slot = Int(a.allocator.meta(p).pointee.migratetype)
        let cached = PFN(c2.pointee.tails[slot])  // the coldest frame of CPU 2's list: a walk to its head
        #expect(a.allocator.meta(cached).pointee.state.contains(.pcp))
        let before = c2.pointee.count
        #expect(before >= 4 && PFN(c2.pointee.heads[slot]) != cached, "the frame is deep in the list")
        #expect(try a.allocator.onCPU(0).allocateFrame(cached))
        #expect(c2.pointee.count == before - 1)
        #expect(a.allocator.meta(cached).pointee.state.contains(.allocated))
        #expect(a.check().passed, "\(a.check().text)")
    }

    /// The zone invariant counts every CPU's cache: free + Σ caches + allocated + reserved = managed.
    @Test func theCountersSumEveryCPUsCache() throws {
        let a = try HostArena()
        var live: [(PFN, Int)] = []
        for i in 0..<64 {
            let c = i % 4
            if let p = try a.allocator.onCPU(c).allocate(AllocationRequest(order: 0)) { live.append((p, c)) }
        }
        for (i, (p, c)) in live.enumerated() where i % 2 == 0 { try a.allocator.onCPU((c + 1) % 4).free(p, order: 0) }
        for z in 0..<3 {
            let zp = a.allocator.zone(z).pointee
            #expect(zp.freePages + a.allocator.perCPUCount(zone: z) + zp.allocatedPages + zp.reservedPages == zp.managedPages)
        }
        #expect((0..<4).filter { a.allocator.perCPU(2, cpu: $0).pointee.count > 0 }.count >= 2)
        #expect(a.check().passed, "\(a.check().text)")
    }

    /// The descriptor publishes the table, and `onCPU` masks its argument into the table's rows.
    @Test func theTableIsPublished() throws {
        let a = try HostArena()
        var s = TextCollector()
        a.allocator.writePerCPULayout(to: &s)
        let t = s.text
        #expect(t.contains("PCP=0x\(String(a.allocator.state.pointee.perCPUPages, radix: 16))\n"))
        #expect(t.contains("PCP_CPUS=\(Kmem.maxCPUs)\n") && t.contains("PCP_ZONES=3\n"))
        #expect(t.contains("PCP_STRIDE=\(MemoryLayout<PerCPUPages>.stride)\n"))
        #expect(t.contains("OFFSET(OpLogEntry.cpu)=14\n"))
        // the harness's table sits in its arena's kernel image, as the kernel's is in its own
        #expect(a.allocator.state.pointee.perCPUPages == a.directMap + a.map.kernel.start)
        #expect(a.allocator.onCPU(17).currentCPU == 1)
    }
}

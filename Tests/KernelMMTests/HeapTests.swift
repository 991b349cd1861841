import KernelHarness
import Testing
@testable import KernelMM

@Suite("Slab heap")
struct HeapTests {
    @Test(arguments: [1, 16, 17, 100, 512, 2048] as [UInt64])
    func sizeClassesServeAndPoison(size: UInt64) throws {
        let a = try HostArena()
        let pa = a.allocator
        let p = try pa.kmalloc(size: size)
        #expect(p != 0)
        let cls = max(16, 1 << (64 - (Int(size) - 1).leadingZeroBitCount))
        #expect(p % UInt64(cls) == 0, "objects are aligned to their size class")
        let pfn = PFN((p - pa.state.pointee.directMapOffset) >> 12)
        let m = pa.meta(pfn).pointee
        #expect(m.state.contains([.slab, .allocated, .head]))
        #expect(m.owner == Kmem.slabOwnerBase + UInt64(cls.trailingZeroBitCount - 4))
        // the object may be written whole
        UnsafeMutableRawPointer(bitPattern: UInt(p))!.initializeMemory(as: UInt8.self, repeating: 0x11, count: Int(size))
        #expect(a.check().passed, "\(a.check().text)")
        try pa.kfree(p)
        // poisoned after its link word
        if cls > 8 { #expect(UnsafePointer<UInt8>(bitPattern: UInt(p + 8))!.pointee == Kmem.slabPoison) }
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func slabsGrowFillAndReturnToTheBuddyAllocator() throws {
        let a = try HostArena()
        let pa = a.allocator
        let c = pa.cache(2)  // 64-byte objects, 64 per slab
        var objects: [UInt64] = []
        for _ in 0..<130 { objects.append(try pa.kmalloc(size: 64)) }
        #expect(Set(objects).count == 130)
        #expect(c.pointee.fullSlabs == 2 && c.pointee.partialSlabs == 1 && c.pointee.inUse == 130)
        #expect(a.check().passed, "\(a.check().text)")
        var s = TextCollector()
        pa.writeSlabinfo(to: &s)
        #expect(s.text.contains("slabinfo: kmalloc-64       130    192    64   64    1 : slabdata     3     3"), "\(s.text)")
        for o in objects { try pa.kfree(o) }
        #expect(c.pointee.fullSlabs == 0 && c.pointee.partialSlabs == 0 && c.pointee.inUse == 0)
        #expect(c.pointee.allocations == 130 && c.pointee.frees == 130)
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func largeRequestsTakeWholeBlocks() throws {
        let a = try HostArena()
        let pa = a.allocator
        let p = try pa.kmalloc(size: 2049)
        #expect(p % 4096 == 0)
        let q = try pa.kmalloc(size: 20000)  // 5 pages → order 3
        let m = pa.meta(PFN((q - pa.state.pointee.directMapOffset) >> 12)).pointee
        #expect(m.order == 3 && m.owner == Kmem.largeHeapOwner)
        #expect(pa.heap.pointee.largeAllocations == 2 && pa.heap.pointee.largePages == 1 + 8)
        try pa.kfree(p)
        try pa.kfree(q)
        #expect(pa.heap.pointee.largeAllocations == 0)
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func misuseIsCaught() throws {
        let a = try HostArena()
        let pa = a.allocator
        let p = try pa.kmalloc(size: 32)
        let keep = try pa.kmalloc(size: 32)  // keeps the slab alive after p is freed
        try pa.kfree(p)
        #expect(throws: KmemError.heapDoubleFree(address: p)) { try pa.kfree(p) }
        #expect(throws: KmemError.heapInvalidFree(address: keep + 3)) { try pa.kfree(keep + 3) }
        let page = pa.state.pointee.directMapOffset + (0x900 << 12)
        #expect(throws: KmemError.heapInvalidFree(address: page)) { try pa.kfree(page) }
        #expect(throws: KmemError.heapInvalidFree(address: 12)) { try pa.kfree(12) }
        // a write after free is found when the object is handed out again
        UnsafeMutablePointer<UInt8>(bitPattern: UInt(p + 20))!.pointee = 0x99
        #expect(throws: KmemError.slabPoisonOverwritten(address: p, offset: 20, found: 0x99)) { try pa.kmalloc(size: 32) }
    }

    @Test func randomHeapTraffic() throws {
        let a = try HostArena()
        let pa = a.allocator
        var rng = SplitMix64(seed: 99)
        var live: [UInt64] = []
        for step in 0..<3000 {
            if live.isEmpty || rng.next() % 5 < 3 {
                let size = rng.next() % 5 == 0 ? 2049 + rng.next() % 30000 : 1 + rng.next() % 2048
                let p = try pa.kmalloc(size: size)
                if p != 0 { live.append(p) }
            } else {
                let i = Int(rng.next() % UInt64(live.count))
                try pa.kfree(live.remove(at: i))
            }
            if step % 100 == 0 { #expect(a.check().passed, "step \(step): \(a.check().text)") }
        }
        for p in live { try pa.kfree(p) }
        for i in 0..<Kmem.slabCacheCount { #expect(pa.cache(i).pointee.inUse == 0) }
        #expect(a.check().passed, "\(a.check().text)")
    }
}

@Suite("Heap counters")
struct HeapCounterTests {
    /// The large-allocation counters are checked against the frames that carry the owner.
    @Test func largeCountersAreChecked() throws {
        let a = try HostArena()
        let pa = a.allocator
        _ = try pa.kmalloc(size: 20_000)
        #expect(a.check().passed, "\(a.check().text)")
        pa.heap.pointee.largePages += 1
        #expect(!a.check().passed)
        pa.heap.pointee.largePages -= 1
        pa.heap.pointee.largeAllocations = 0
        #expect(!a.check().passed)
    }
}

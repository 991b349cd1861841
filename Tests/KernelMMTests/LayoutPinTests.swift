import Testing
@testable import KernelMM

/// The structure layouts are a contract with the toolkit: pinned here with `MemoryLayout`,
/// in the kernel by its own measurement, and in DWARF.
@Suite("Layouts pinned")
struct LayoutPinTests {
    @Test func frameMetaIs64Bytes() {
        #expect(MemoryLayout<FrameMeta>.size == 64)
        #expect(MemoryLayout<FrameMeta>.stride == 64)
        let offsets: [(PartialKeyPath<FrameMeta>, Int)] = [
            (\.next, 0), (\.prev, 8), (\.flags, 16), (\.order, 20), (\.migratetype, 21), (\.zone, 22),
            (\.refcount, 24), (\.segment, 28), (\.owner, 32), (\.lastSeq, 40), (\.slabFree, 48), (\.slabInfo, 56),
        ]
        for (path, offset) in offsets {
            #expect(MemoryLayout<FrameMeta>.offset(of: path) == offset, "\(path)")
        }
    }

    @Test func segmentAndZoneLayouts() {
        #expect(MemoryLayout<Segment>.offset(of: \Segment.freeHeads) == 40)
        #expect(MemoryLayout<Segment>.offset(of: \Segment.freeCounts) == 40 + 48 * 8)
        #expect(MemoryLayout<Segment>.offset(of: \Segment.parityBitmaps) == 40 + 96 * 8)
        #expect(MemoryLayout<Segment>.size == 40 + (96 + 12) * 8 + 32)
        #expect(MemoryLayout<Zone>.offset(of: \Zone.lowmemReserve) == 112)
        #expect(MemoryLayout<Zone>.offset(of: \Zone.lock) == 136)  // the per-CPU caches left for the [cpu][zone] table
        #expect(MemoryLayout<PerCPUPages>.size == 24 + 3 * 32 + 8 + 8)  // the lock appended: nothing moved
        #expect(MemoryLayout<PerCPUPages>.offset(of: \PerCPUPages.lock) == 128)
        #expect(MemoryLayout<PerCPUPages>.offset(of: \PerCPUPages.tails) == 88)
        #expect(MemoryLayout<PerCPUPages>.offset(of: \PerCPUPages.drainCursor) == 120)
        #expect(MemoryLayout<KmemState>.size == 22 * 8)
        #expect(MemoryLayout<KmemState>.offset(of: \KmemState.busy) == 19 * 8)
        #expect(MemoryLayout<KmemState>.offset(of: \KmemState.perCPUPages) == 20 * 8)
        #expect(MemoryLayout<KmemState>.offset(of: \KmemState.cpuOperations) == 21 * 8)  // appended: nothing moved
        // each CPU's in-operation row: a cache line, busy then parentSequence
        #expect(MemoryLayout<CPUOperation>.size == 64 && MemoryLayout<CPUOperation>.stride == 64)
        #expect(MemoryLayout<CPUOperation>.offset(of: \CPUOperation.busy) == 0)
        #expect(MemoryLayout<CPUOperation>.offset(of: \CPUOperation.parentSequence) == 8)
        // the heap lock after the caches (appended)
        #expect(MemoryLayout<HeapState>.offset(of: \HeapState.lock) == 24 + 8 * MemoryLayout<SlabCache>.stride)
        #expect(MemoryLayout<OpLogEntry>.size == 64)
        #expect(MemoryLayout<OpLogEntry>.offset(of: \OpLogEntry.cpu) == 14)
    }

    /// The `InlineArray` sizes in the structures spell out products of the constants.
    @Test func inlineArraysMatchTheConstants() {
        let seg = Segment(startPFN: 0, endPFN: 0, zone: 0, index: 0, freePages: 0, reservedPages: 0,
                          freeHeads: .init(repeating: 0), freeCounts: .init(repeating: 0), parityBitmaps: .init(repeating: 0),
                          allocBitmap: 0, pageblockTags: 0, firstPageblock: 0, pageblockCount: 0)
        #expect(seg.freeHeads.count == Kmem.freeListCount)
        #expect(seg.freeCounts.count == Kmem.freeListCount)
        #expect(seg.parityBitmaps.count == Kmem.orderCount)
        let pcp = PerCPUPages(count: 0, high: 0, batch: 0, heads: .init(repeating: 0), counts: .init(repeating: 0),
                              tails: .init(repeating: 0), drainCursor: 0, lock: TicketLockWord())
        #expect(pcp.heads.count == Kmem.migratetypeSlots && pcp.tails.count == Kmem.migratetypeSlots)
        #expect(Kmem.poisonWord == 0xAAAA_AAAA_AAAA_AAAA)
    }

    @Test func listIndexing() {
        #expect(Kmem.freeListCount == Kmem.migratetypeSlots * Kmem.orderCount)
        #expect(Kmem.orderCount == Kmem.maxOrder + 1)
        #expect(Kmem.pageblockPages == 1 << UInt64(Kmem.pageblockOrder))
    }
}

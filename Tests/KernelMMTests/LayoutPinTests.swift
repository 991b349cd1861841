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
        #expect(MemoryLayout<Zone>.offset(of: \Zone.pcp) == 136)
        #expect(MemoryLayout<PerCPUPages>.size == 24 + 64)
        #expect(MemoryLayout<KmemState>.size == 15 * 8)
    }

    @Test func listIndexing() {
        #expect(Kmem.freeListCount == Kmem.migratetypeSlots * Kmem.orderCount)
        #expect(Kmem.orderCount == Kmem.maxOrder + 1)
        #expect(Kmem.pageblockPages == 1 << UInt64(Kmem.pageblockOrder))
    }
}

import AllocatorText
import Testing
@testable import BundledState

/// The /proc views in Linux 6.1's layout, and the census that never counts past a break.
@Suite("/proc views")
struct ProcViewTests {
    /// order 0 list: 2 → 5 → 9; order 1: 4; migratetype 1, order 2: 8
    static func snapshot(links: [UInt64: UInt64] = [2: 5, 5: 9]) -> KernelSnapshot {
        SnapshotTests.snapshot(SnapshotTests.table(count: 16, links: links), heads: [2, 4, .max, .max, .max, 8])
    }

    @Test func buddyinfoHasLinuxsLayout() {
        let s = Self.snapshot()
        let census = FreeListCensus(s)
        #expect(census.broken.isEmpty)
        #expect(ProcText.buddyinfo(s.allocatorView(census)) == "Node 0, zone      DMA      3      1      1 \n")
    }

    @Test func pagetypeinfoHasLinuxsLayout() {
        let s = Self.snapshot()
        let text = ProcText.pagetypeinfo(s.allocatorView(FreeListCensus(s)))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "Page block order: \(s.pageblockOrder)")
        #expect(lines[1] == "Pages per block:  \(1 << s.pageblockOrder)")
        #expect(lines[3].hasPrefix("Free pages count per migrate type at order       0      1 "))
        #expect(lines.contains { $0.hasPrefix("Node    0, zone      DMA, type    Unmovable ") })
        #expect(lines.contains { $0.hasPrefix("Number of blocks type     Unmovable      Movable ") })
    }

    @Test func aCycleIsReportedNotCounted() {
        let s = Self.snapshot(links: [2: 5, 5: 2])   // the order-0 list loops back to its head
        let census = FreeListCensus(s)
        #expect(census.broken.count == 1)
        #expect(census.broken.first?.reason == "a cycle back to")
        #expect(census.orders(zone: 0)[0] <= UInt64(s.segments[0].pageCount))
        #expect(ZoneTableText.text(s.allocatorView(FreeListCensus(s))).contains("broken free list: segment 0 (DMA) migratetype"))
    }

    @Test func slabinfoVersion21() {
        var s = Self.snapshot()
        s.heap = HeapSnapshot(caches: [HeapSnapshot.Cache(index: 0, objectSize: 16, objectsPerSlab: 256, partialHead: .max,
                                                          fullHead: .max, partialSlabs: 2, fullSlabs: 1, inUse: 700)],
                              slabOwnerBase: 0x51ab0000, poison: 0x6b, directMap: 0, pages: [:])
        let lines = ProcText.slabinfo(s.allocatorView(FreeListCensus(s))).split(separator: "\n").map(String.init)
        #expect(lines[0] == "slabinfo - version: 2.1")
        #expect(lines[2] == "kmalloc-16           700    768     16  256    1 : tunables    0    0    0 : slabdata      3      3      0")
    }
}

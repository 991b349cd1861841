import KernelHarness
import Testing
@testable import KernelMM

@Suite("Statistics")
struct StatisticsTests {
    @Test func freshZonesAreUnfragmented() throws {
        let a = try HostArena()
        let pa = a.allocator
        // DMA32 [0x400, 0x600) and [0x680, 0xC00): [0x800, 0xC00) is one order-10 block,
        // [0x400, 0x600) one order-9 block (Normal holds the boot allocations).
        #expect(pa.largestFreeOrder(zone: 1) == 10)
        #expect(pa.freeBlocks(zone: 1, order: 10) == 1 && pa.freeBlocks(zone: 1, order: 9) == 1)
        #expect(pa.fragmentationScore(zone: 1, order: 0) == 0)
        #expect(pa.freePages(zone: 1, migratetype: 1) == pa.zone(1).pointee.freePages, "boot frees everything as movable")
        #expect(pa.freePages(zone: 1, migratetype: 0) == 0)
        #expect(pa.freePagesAtOrAbove(zone: 1, order: 0) == pa.zone(1).pointee.freePages)
    }

    @Test func fragmentationIsMeasured() throws {
        let a = try HostArena()
        let pa = a.allocator
        // take every page of DMA, then give back every other one: all free memory is order 0
        var pages: [PFN] = []
        while let p = try pa.allocate(AllocationRequest(order: 0, zone: .dma, ignoreWatermarks: true)) {
            if a.zoneOf(p) == 0 { pages.append(p) }
        }
        for p in pages.sorted() where p % 2 == 0 { try pa.free(p, order: 0) }
        try pa.drainPerCPU(pa.zone(0), all: true)
        #expect(pa.largestFreeOrder(zone: 0) == 0)
        #expect(pa.fragmentationScore(zone: 0, order: 1) == 100)
        #expect(pa.freeBlocks(zone: 0, order: 0) == pa.zone(0).pointee.freePages)
        // unmovable requests stole pageblocks: their free pages are counted by migratetype
        let byType = pa.freePages(zone: 0, migratetype: 0) + pa.freePages(zone: 0, migratetype: 1)
        #expect(byType == pa.zone(0).pointee.freePages)
        var s = TextCollector()
        pa.writeZoneStatistics(to: &s)
        #expect(s.text.contains("kmem: zonestat DMA    largest-order 0 frag(3) 100% frag(9) 100%"), "\(s.text)")
        #expect(a.check().passed, "\(a.check().text)")
    }
}

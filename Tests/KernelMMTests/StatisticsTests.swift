import Testing
@testable import KernelMM

@Suite("Statistics")
struct StatisticsTests {
    @Test func freshZonesAreUnfragmented() throws {
        let a = try Arena()
        let pa = a.allocator
        // Normal [0xC00, 0xE00) and [0xF00, 0x1800): [0x1000, 0x1800) is one order-11 block
        #expect(pa.largestFreeOrder(zone: 2) == 11)
        #expect(pa.freeBlocks(zone: 2, order: 11) == 1 && pa.freeBlocks(zone: 2, order: 9) == 1)
        #expect(pa.fragmentationScore(zone: 2, order: 0) == 0)
        #expect(pa.freePages(zone: 2, migratetype: 1) == pa.zone(2).pointee.freePages, "boot frees everything as movable")
        #expect(pa.freePages(zone: 2, migratetype: 0) == 0)
        #expect(pa.freePagesAtOrAbove(zone: 2, order: 0) == pa.zone(2).pointee.freePages)
    }

    @Test func fragmentationIsMeasured() throws {
        let a = try Arena()
        let pa = a.allocator
        // take every page of DMA, then give back every other one: all free memory is order 0
        var pages: [UInt64] = []
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
        var s = StringSink()
        pa.writeZoneStatistics(to: &s)
        #expect(s.text.contains("kmem: zonestat DMA    largest-order 0 frag(3) 100% frag(9) 100%"), "\(s.text)")
        #expect(a.check().passed, "\(a.check().text)")
    }
}

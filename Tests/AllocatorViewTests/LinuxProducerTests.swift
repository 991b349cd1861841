import AllocatorText
import AllocatorView
@testable import LinuxKernel
import Testing

/// Linux's decoded buddy state → view: buddyinfo prints `nr_free` exactly as the guest's
/// /proc/buddyinfo (what `ProcFreeCounts` renders and LinuxGuestTests compare with the
/// guest), pagetypeinfo's free table the blocks walked, capped as the kernel caps them.
@Suite("Allocator view: Linux's producer")
struct LinuxProducerTests {
    static func zone(_ index: Int, _ name: String, present: UInt64, nrFree: [UInt64], walked: [[Int]],
                     issues: [LinuxFreeListIssue] = [], perCPU: [Int] = []) -> LinuxZoneFreeArea {
        LinuxZoneFreeArea(index: index, name: name, startPFN: UInt64(index) * 0x1000, spannedPages: present + 5, presentPages: present,
                          managedPages: present, freePagesCounter: present == 0 ? nil : -3 + Int64(present), perCPUCounts: perCPU,
                          nrFree: nrFree, walked: walked,
                          blocks: [LinuxFreeBlock(pfn: 0x10, order: 0, migratetype: 1), LinuxFreeBlock(pfn: 0x12, order: 1, migratetype: 1)],
                          issues: issues)
    }

    static let state = LinuxBuddyState(node: 0, zones: [
        zone(0, "DMA", present: 3998, nrFree: [1, 0, 2], walked: [[0, 0, 1], [1, 0, 1], [0, 0, 0]], perCPU: [5, -1]),
        zone(1, "DMA32", present: 60000, nrFree: [120_000, 3, 0], walked: [[150_000, 1, 0], [7, 2, 0], [0, 0, 0]],
             issues: [LinuxFreeListIssue(zone: "DMA32", order: 1, migratetype: 0, problem: "walk ended: cycle(node: 4096)")]),
        zone(2, "Normal", present: 0, nrFree: [0, 0, 0], walked: [[0, 0, 0], [0, 0, 0], [0, 0, 0]]),
    ], migratetypeNames: ["Unmovable", "Movable", "Reclaimable"], pageOffsetBase: 0, vmemmapBase: 0)

    @Test func buddyinfoIsWhatLinuxPrints() {
        let view = Self.state.allocatorView(orderCount: 3)
        #expect(ProcText.buddyinfo(view) == ProcFreeCounts.buddyinfo(of: Self.state).text + "\n")
        #expect(ProcText.buddyinfo(view) == "Node 0, zone      DMA      1      0      2 \nNode 0, zone    DMA32 120000      3      0 \n")
    }

    @Test func pagetypeinfoFreeTableIsTheWalkCappedAsLinuxCapsIt() {
        let view = Self.state.allocatorView(orderCount: 3)
        let text = ProcText.pagetypeinfo(view)
        #expect(ProcFreeCounts.parsePagetypeinfo(text) == ProcFreeCounts.pagetypeinfo(of: Self.state))
        #expect(text.contains("Node    0, zone    DMA32, type    Unmovable 100000      1      0 \n"))
        #expect(text.hasPrefix("Page block order: 9\nPages per block:  512\n\nFree pages count per migrate type at order       0      1      2 \n"))
        #expect(!text.contains("Number of blocks type"), "Linux's pageblock flags are not read: no block table")
    }

    @Test func theViewCarriesLinuxsCounters() throws {
        let view = Self.state.allocatorView(orderCount: 3, watermarks: [1: Watermarks(min: 10, low: 12, high: 14)])
        #expect(view.kernel == "linux" && view.sequence == nil && view.procListCountLimit == 100_000)
        #expect(view.migratetypeNames == ["Unmovable", "Movable", "Reclaimable"] && view.migratetypesInUse == 3)
        #expect(view.zones.map(\.populated) == [true, true, false])
        let dma = view.zones[0]
        #expect(dma.segments == nil && dma.segmentCount == nil && dma.lowmemReserve == nil && dma.pageblocks == nil)
        #expect(dma.freePages == .signed(3995) && dma.endPFN == 3998 + 5)
        #expect(dma.freeAreas.map(\.counter) == [1, 0, 2])
        #expect(dma.freeAreas[0].lists[1].blockPFNs == [0x10] && dma.freeAreas[1].lists[1].blockPFNs == [0x12])
        #expect(dma.perCPU == [PerCPUCache(cpu: 0, count: .signed(5)), PerCPUCache(cpu: 1, count: nil)], "an unreadable count is nil")
        #expect(view.zones[1].watermarks == Watermarks(min: 10, low: 12, high: 14) && dma.watermarks == nil)
        #expect(view.listBreaks.map(\.text) == ["zone DMA32 order 1 migratetype 0: walk ended: cycle(node: 4096)"])
        #expect(view.zones[1].freeAreas[1].lists[0].complete == false && view.zones[1].freeAreas[1].lists[1].complete)
        let tree = ZoneTreeText.text(view)
        #expect(tree.hasPrefix("zone DMA  pfn [0x0, 0xfa3)  managed 3998  free 3995\n  order  0: Unmovable 0  Movable 1  Reclaimable 0  (1 pages)"))
    }
}

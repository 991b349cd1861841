import AllocatorChecks
import Testing
@testable import LinuxKernel

/// LinuxFreeBlockChecks on hand-made zones.
struct FreeBlockChecksTests {
    func zone(_ blocks: [LinuxFreeBlock]) -> LinuxZoneFreeArea {
        LinuxZoneFreeArea(index: 1, name: "DMA32", startPFN: 0x1000, spannedPages: 0x1000, presentPages: 0x1000,
                          managedPages: 0x1000, freePagesCounter: nil, nrFree: [], walked: [], blocks: blocks, issues: [])
    }
    func checks(_ blocks: [LinuxFreeBlock]) -> [String] {
        LinuxFreeBlockChecks.check(zone(blocks), orderCount: 11) { $0.recordedOrder }.map(\.check)
    }

    @Test func cleanBlocksPass() {
        #expect(checks([LinuxFreeBlock(pfn: 0x1000, order: 3, migratetype: 1, recordedOrder: 3),
                        LinuxFreeBlock(pfn: 0x1010, order: 4, migratetype: 1),
                        LinuxFreeBlock(pfn: 0x1020, order: 3, migratetype: 0)]).isEmpty)
        // At pageblock_order (9) and above, __free_one_page does not merge a HighAtomic (3) or
        // Isolate block with a block of another type.
        #expect(checks([LinuxFreeBlock(pfn: 0x1000, order: 9, migratetype: 1),
                        LinuxFreeBlock(pfn: 0x1200, order: 9, migratetype: 3)]).isEmpty)
    }

    @Test func buddiesMergeWhereLinuxMergesThem() {
        // Below pageblock_order the migratetypes do not matter.
        #expect(checks([LinuxFreeBlock(pfn: 0x1000, order: 3, migratetype: 1),
                        LinuxFreeBlock(pfn: 0x1008, order: 3, migratetype: 0)]) == ["buddy-merged"])
        // At pageblock_order, two mergeable types (both below MIGRATE_PCPTYPES) merge.
        #expect(checks([LinuxFreeBlock(pfn: 0x1000, order: 9, migratetype: 1),
                        LinuxFreeBlock(pfn: 0x1200, order: 9, migratetype: 0)]) == ["buddy-merged"])
    }

    @Test func eachViolationIsNamed() {
        #expect(checks([LinuxFreeBlock(pfn: 0x1001, order: 1, migratetype: 0)]) == ["order-aligned"])
        #expect(checks([LinuxFreeBlock(pfn: 0x2000, order: 0, migratetype: 0)]) == ["in-zone"])
        #expect(checks([LinuxFreeBlock(pfn: 0x1000, order: 2, migratetype: 0),
                        LinuxFreeBlock(pfn: 0x1000, order: 2, migratetype: 1)]) == ["on-one-list"])
        #expect(checks([LinuxFreeBlock(pfn: 0x1000, order: 3, migratetype: 0),
                        LinuxFreeBlock(pfn: 0x1004, order: 0, migratetype: 0)]) == ["no-overlap"])
        #expect(checks([LinuxFreeBlock(pfn: 0x1000, order: 2, migratetype: 1),
                        LinuxFreeBlock(pfn: 0x1004, order: 2, migratetype: 1)]) == ["buddy-merged"])
        #expect(checks([LinuxFreeBlock(pfn: 0x1000, order: 2, migratetype: 1, recordedOrder: 5)]) == ["order-recorded"])
    }

    /// The core's rules on the Linux view, in LinuxVerifier's words: a broken list, nr_free off
    /// by one (not compared for an order cut at the walk's bound), unmerged buddies.
    @Test func theCoresFindingsInLinuxWords() {
        var z = zone([LinuxFreeBlock(pfn: 0x1000, order: 1, migratetype: 0), LinuxFreeBlock(pfn: 0x1002, order: 1, migratetype: 1)])
        z.nrFree = [0, 3]
        z.walked = [[0, 1], [0, 1]]
        z.issues = [LinuxFreeListIssue(zone: "DMA32", order: 0, migratetype: 1, problem: "walk ended: cycle(node: 4096)")]
        let state = LinuxBuddyState(node: 0, zones: [z], migratetypeNames: ["Unmovable", "Movable"], pageOffsetBase: 0, vmemmapBase: 0)
        func findings(_ state: LinuxBuddyState) -> [String] {
            let view = state.allocatorView(orderCount: 2)
            return BuddyChecks.check(view.zones[0], node: 0, in: view).compactMap {
                LinuxFreeBlockChecks.finding($0, zone: "DMA32") { state.migratetypeNames[$0] }?.description
            }
        }
        #expect(findings(state) == [
            "list-links: zone DMA32 pfn 0x0: order 0 Movable: walk ended: cycle(node: 4096)",
            "nr-free: zone DMA32 pfn 0x0: order 1: nr_free 3, the lists hold 2 blocks",
        ], "order 1 is the top order here: its buddies have no pair")
        var cut = state
        cut.zones[0].cutShort = [LinuxFreeListIssue(zone: "DMA32", order: 1, migratetype: 0, problem: "walked the first 1 blocks")]
        #expect(findings(cut) == ["list-links: zone DMA32 pfn 0x0: order 0 Movable: walk ended: cycle(node: 4096)"])
        var three = state
        three.zones[0].nrFree = [0, 2]
        let view = three.allocatorView(orderCount: 3)
        #expect(BuddyChecks.check(view.zones[0], node: 0, in: view).compactMap {
            LinuxFreeBlockChecks.finding($0, zone: "DMA32")?.description
        }.last == "buddy-merged: zone DMA32 pfn 0x1000: its order 1 buddy 0x1002 is free too")
    }
}

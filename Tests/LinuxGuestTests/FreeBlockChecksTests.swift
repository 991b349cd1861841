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
}

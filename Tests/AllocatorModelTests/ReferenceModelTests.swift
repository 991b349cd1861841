import AllocatorModel
import Testing

/// The reference model on small hand-checked cases, one per clause of kernel/README.md's
/// "Rules": each expectation was worked out from the contract's text, not from a run.
@Suite("Reference model: the contract's rules")
struct ReferenceModelTests {
    /// No watermarks, batch 2, high 4: the rules without the zone test in the way.
    static let flat = ModelState.Parameters(min: 0, low: 0, high: 0, lowmemReserve: [0, 0, 0], batch: 2, pcpHigh: 4)
    static let directMap: UInt64 = 0xffff_8880_0000_0000

    static func model(_ segments: [(UInt64, UInt64, Int)], poisoning: Bool = false) -> ModelState {
        ModelState(boot: segments.map { .init(startPFN: $0.0, endPFN: $0.1, zone: $0.2) }, directMap: directMap,
                   poisoning: poisoning, parameters: [flat, flat, flat])
    }

    /// The state without its sequence number and log (what an operation that "changes
    /// nothing" may still change).
    static func body(_ m: ModelState) -> ModelState {
        var b = m
        b.sequence = 0
        b.log = []
        return b
    }

    @Test func bootPushesMaximalAlignedBlocksOnMovableLists() {
        let m = Self.model([(0x100, 0x900, 0)])
        // 0x100 order 8, 0x200 order 9, 0x400 order 10, 0x800 order 8 (pushed last, so in front)
        #expect(m.segments[0].freeLists[1][8] == [0x800, 0x100])
        #expect(m.segments[0].freeLists[1][9] == [0x200])
        #expect(m.segments[0].freeLists[1][10] == [0x400])
        #expect(m.segments[0].freeLists[0].allSatisfy { $0.isEmpty })
        #expect(m.zones[0].freePages == 0x800 && m.zones[0].managedPages == 0x800)
        #expect(m.tag(of: 0x100) == 1 && m.tag(of: 0x8ff) == 1)
    }

    @Test func smallestFitAcrossTheZoneBeforeSplitting() {
        // Segment 0 holds an order-3 block, segment 1 an order-1 block: the order-1 one wins.
        var m = Self.model([(0x0, 0x8, 0), (0x12, 0x14, 0)])
        let r = m.allocate(order: 1, migratetype: 1, zone: 2, alignment: 1, owner: 7, ignoreWatermarks: false)
        #expect(r == .ok(0x12))
        #expect(m.segments[0].freeLists[1][3] == [0x0])
        // Alignment 4 of an order-0 request: the order-3 block at 0 is split, upper halves pushed.
        let a = m.allocate(order: 0, migratetype: 1, zone: 2, alignment: 4, owner: 7, ignoreWatermarks: false)
        #expect(a == .ok(0x0))
        #expect(m.segments[0].freeLists[1][2] == [0x4] && m.segments[0].freeLists[1][1] == [0x2] && m.segments[0].freeLists[1][0] == [0x1])
        #expect(m.zones[0].allocatedPages == 3 && m.zones[0].freePages == 7)
    }

    @Test func stealingAPageblockOrderBlockRetagsIt() {
        var m = Self.model([(0x0, 0x400, 0)])
        let r = m.allocate(order: 0, migratetype: 0, zone: 2, alignment: 2, owner: 1, ignoreWatermarks: false)
        #expect(r == .ok(0x0))
        #expect(m.tag(of: 0x0) == 0 && m.tag(of: 0x200) == 0)
        #expect(m.segments[0].freeLists[0][9] == [0x200] && m.segments[0].freeLists[0][0] == [0x1])
        #expect(m.segments[0].freeLists[1].allSatisfy { $0.isEmpty })
    }

    @Test func anUnmovableStealClaimsThePageblock() {
        var m = Self.model([(0x0, 0x200, 0)])
        #expect(m.allocate(order: 0, migratetype: 1, zone: 2, alignment: 2, owner: 1, ignoreWatermarks: false) == .ok(0x0))
        // Movable now: 0x100(8) 0x80(7) … 0x2(1) 0x1(0). An unmovable order-1 request steals the
        // largest (0x100, order 8 < 9): the pageblock is claimed, every movable free head moves
        // (in PFN order) to the unmovable lists, then 0x100 is split onto them.
        #expect(m.allocate(order: 1, migratetype: 0, zone: 2, alignment: 1, owner: 1, ignoreWatermarks: false) == .ok(0x100))
        #expect(m.tag(of: 0x0) == 0)
        #expect(m.segments[0].freeLists[1].allSatisfy { $0.isEmpty })
        #expect(m.segments[0].freeLists[0][7] == [0x180, 0x80])
        #expect(m.segments[0].freeLists[0][1] == [0x102, 0x2])
        #expect(m.segments[0].freeLists[0][0] == [0x1])
    }

    @Test func aSmallMovableStealIsTakenAlone() {
        var m = Self.model([(0x0, 0x4, 0)])
        #expect(m.allocate(order: 0, migratetype: 0, zone: 2, alignment: 2, owner: 1, ignoreWatermarks: false) == .ok(0x0))
        #expect(m.tag(of: 0x0) == 0, "order 2 < 4 but unmovable: claimed")
        // Movable order 0 with alignment 2: only unmovable 0x2 (order 1) fits; movable and order 1 < 4,
        // so it is taken alone and its remainder 0x3 goes back on the donor's (unmovable) list.
        #expect(m.allocate(order: 0, migratetype: 1, zone: 2, alignment: 2, owner: 1, ignoreWatermarks: false) == .ok(0x2))
        #expect(m.segments[0].freeLists[0][0] == [0x3, 0x1])
        #expect(m.tag(of: 0x0) == 0)
    }

    @Test func orderZeroGoesThroughThePerCPUListAndDrainsColdestRoundRobin() {
        var m = Self.model([(0x0, 0x10, 0)])
        // Refill of 2: frame 0 (splitting the order-4 block), then 0x1; the first (0x1) is handed out.
        #expect(m.allocate(order: 0, migratetype: 1, zone: 2, alignment: 1, owner: 1, ignoreWatermarks: false) == .ok(0x1))
        #expect(m.zones[0].pcpLists[1] == [0x0])
        #expect(m.zones[0].freePages == 14 && m.zones[0].pcpCount == 1 && m.zones[0].allocatedPages == 1)
        #expect(m.free(0x1, order: 0) == .ok(1))
        #expect(m.zones[0].pcpLists[1] == [0x1, 0x0])
        // Drain of batch 2 from cursor 0: slot 0 empty → 1: tail 0x0; 2, 3, 0 empty → 1: tail 0x1,
        // which merges all the way back to the order-4 block. The cursor stays at 2.
        #expect(m.drainPerCPU(zone: 0, all: false) == .ok(1))
        #expect(m.zones[0].pcpCount == 0 && m.zones[0].drainCursor == 2)
        #expect(m.segments[0].freeLists[1][4] == [0x0] && m.zones[0].freePages == 16)
    }

    @Test func aFreeAbovePageblockOrderRetagsToItsHeadPageblock() {
        var m = Self.model([(0x0, 0x400, 0)])
        #expect(m.allocate(order: 9, migratetype: 1, zone: 2, alignment: 1, owner: 1, ignoreWatermarks: false) == .ok(0x0))
        #expect(m.allocate(order: 9, migratetype: 0, zone: 2, alignment: 1, owner: 1, ignoreWatermarks: false) == .ok(0x200))
        #expect(m.tag(of: 0x200) == 0)
        #expect(m.free(0x200, order: 9) == .ok(1))
        #expect(m.segments[0].freeLists[0][9] == [0x200], "pushed on its head pageblock's (unmovable) list")
        #expect(m.free(0x0, order: 9) == .ok(1))
        #expect(m.segments[0].freeLists[1][10] == [0x0] && m.tag(of: 0x200) == 1, "merged, retagged to the head's movable")
    }

    @Test func misuseIsReportedAndChangesNothing() {
        var m = Self.model([(0x0, 0x400, 0), (0x800, 0x900, 1)])
        _ = m.allocate(order: 3, migratetype: 0, zone: 2, alignment: 1, owner: 1, ignoreWatermarks: false)
        _ = m.allocate(order: 0, migratetype: 1, zone: 2, alignment: 1, owner: 1, ignoreWatermarks: false)
        _ = m.reserveRange(start: 0x100, count: 2, owner: 9)
        let before = Self.body(m)
        let misuses: [ModelOperation] = [
            .free(pfn: 0x200, order: 0),                     // double free (free block)
            .free(pfn: 0x100, order: 0),                     // reserved
            .free(pfn: 0x500, order: 0),                     // outside managed memory (a hole)
            .allocate(order: 12, migratetype: 0, zone: 2, alignment: 1, owner: 0, ignoreWatermarks: false),
            .allocate(order: 0, migratetype: 0, zone: 2, alignment: 3, owner: 0, ignoreWatermarks: false),
            .reserveRange(start: 0x10, count: 0, owner: 0),
            .reserveRange(start: 0x3ff, count: 2, owner: 0),  // reaches the hole
            .allocateFrame(pfn: 0x500, migratetype: 0, owner: 0),
            .kfree(address: Self.directMap + 0x123),
            .kmalloc(size: 8, alignment: 0),
        ]
        for op in misuses {
            #expect(m.apply(op).status == .misuse, "\(op)")
            #expect(Self.body(m) == before, "\(op) changed the state")
        }
        let head = m.allocated.first { $0.value.order == 3 }!.key
        #expect(m.apply(.free(pfn: head, order: 2)).status == .misuse, "wrong order")
        #expect(m.apply(.free(pfn: head + 1, order: 0)).status == .misuse, "inside a block")
        #expect(Self.body(m) == before)
    }

    @Test func aPoisonHitQuarantinesTheFrameAndStartsAgain() {
        var m = Self.model([(0x0, 0x10, 0)], poisoning: true)
        m.poisonOracle.overwritten[0x3] = .init(pfn: 0x3, offset: 100, byte: 0x41)
        // The candidate (order-4 block, frames 0…7) holds 3: it is quarantined (the block split
        // around it as allocateFrame does), and the retry finds 0x8 (order 3).
        #expect(m.allocate(order: 3, migratetype: 1, zone: 2, alignment: 1, owner: 1, ignoreWatermarks: false) == .ok(0x8))
        #expect(m.log.map(\.sequence) == [2, 1] && m.log[0].kind == .quarantine && m.log[0].parent == 1)
        #expect(m.log[0].address == 0x3 && m.log[0].size == 100 && m.log[0].result == 0x41)
        #expect(m.reserved[0x3]?.quarantined == true && m.reserved[0x3]?.owner == 0x0bad_0000)
        #expect(m.segments[0].freeLists[1][2] == [0x4] && m.segments[0].freeLists[1][1] == [0x0] && m.segments[0].freeLists[1][0] == [0x2])
        #expect(m.zones[0].reservedPages == 1 && m.zones[0].freePages == 7 && m.segments[0].reservedPages == 1)
        #expect(m.free(0x3, order: 0).status == .misuse, "a quarantined frame can never be freed")
        // A specific-frame claim of a bad frame quarantines it and fails.
        m.poisonOracle.overwritten[0x2] = .init(pfn: 0x2, offset: 0, byte: 0)
        #expect(m.allocateFrame(0x2, migratetype: 0, owner: 1) == .failed(0))
        #expect(m.reserved[0x2]?.quarantined == true)
    }

    @Test func theHeapFollowsItsRules() {
        var m = Self.model([(0x0, 0x40, 0)])
        let a = m.kmalloc(size: 2000, alignment: 16)
        #expect(a.status == .ok)
        let slab = (a.value - Self.directMap) / 4096
        #expect(a.value == m.heap.address(of: slab))
        #expect(m.log.map(\.sequence) == [2, 1] && m.log[0].owner == 0x51ab_0000 + 7 && m.log[0].parent == 1)
        #expect(m.allocated[slab]?.slab == true)
        let b = m.kmalloc(size: 1500, alignment: 16)
        #expect(b == .ok(a.value + 2048), "objects in address order")
        #expect(m.heap.caches[7].full == [slab] && m.heap.caches[7].partial.isEmpty, "the full slab moves to the full list")
        #expect(m.free(slab, order: 0).status == .misuse, "a slab page is freed by kfree only")
        #expect(m.kfree(a.value) == .ok(1))
        #expect(m.heap.caches[7].partial == [slab] && m.heap.slabs[slab]?.free == [a.value])
        #expect(m.kfree(a.value).status == .misuse, "double free")
        m.log.removeAll()
        #expect(m.kfree(b.value) == .ok(1))
        #expect(m.heap.slabs[slab] == nil && m.allocated[slab] == nil && m.log.first?.kind == .free && m.log.first?.parent == m.log.last?.sequence)
        let big = m.kmalloc(size: 5000, alignment: 16)
        #expect(big.status == .ok && m.heap.large.values.first == 1, "8 KiB: order 1")
        #expect(m.free((big.value - Self.directMap) / 4096, order: 1).status == .misuse, "a large block is freed by kfree only")
        #expect(m.kfree(big.value + 16).status == .misuse)
        #expect(m.kfree(big.value) == .ok(1) && m.heap.large.isEmpty)
    }

    @Test func watermarksFollowTheFormulas() {
        // One zone of 0x10000 pages (256 MiB): min_free_kbytes = sqrt(16 × 262144) = 2048 → 512 pages.
        let p = ModelState.Parameters.formulas(managed: [0, 0x10000, 0])
        #expect(p[1].min == 512 && p[1].low == 640 && p[1].high == 768)
        #expect(p[1].batch == 16 && p[1].pcpHigh == 96)
        // lowmem reserve: DMA keeps back (DMA32 managed)/256 from DMA32 requests.
        let q = ModelState.Parameters.formulas(managed: [0x1000, 0x10000, 0x8000])
        #expect(q[0].lowmemReserve == [0, 0x100, 0x180] && q[1].lowmemReserve == [0, 0, 0x80] && q[2].lowmemReserve == [0, 0, 0])
    }
}

/// The newer operations: reference counts, count-based allocation, unreserve.
@Suite("Reference model: references, counts, unreserve")
struct ReferenceCountTests {
    @Test func getAndPutCountReferencesAndTheLastPutFrees() {
        var m = ReferenceModelTests.model([(0x0, 0x10, 0)])
        #expect(m.allocate(order: 2, migratetype: 1, zone: 2, alignment: 1, owner: 1, ignoreWatermarks: false) == .ok(0x0))
        #expect(m.get(0x0) == .ok(2))
        #expect(m.free(0x0, order: 2).status == .misuse, "free while two references are held")
        #expect(m.get(0x1).status == .misuse, "not a head")
        #expect(m.put(0x0) == .ok(1))
        #expect(m.put(0x0) == .ok(0))
        #expect(m.allocated.isEmpty && m.segments[0].freeLists[1][4] == [0x0], "freed exactly as free frees it")
        #expect(m.put(0x0).status == .misuse)
    }

    @Test func allocateCountKeepsMaximalBlocksAndGivesTheTailBack() {
        var m = ReferenceModelTests.model([(0x0, 0x10, 0)])
        // 5 frames: an order-3 block at 0; kept 0 (order 2) and 4 (order 0); tail 5 (0), 6 (1).
        #expect(m.allocateCount(5, migratetype: 1, zone: 2, alignment: 1, owner: 3) == .ok(0x0))
        #expect(m.log.last?.order == 3 && m.log.last?.size == 5)
        #expect(m.allocated[0x0]?.order == 2 && m.allocated[0x4]?.order == 0 && m.allocated.count == 2)
        #expect(m.segments[0].freeLists[1][0] == [0x5] && m.segments[0].freeLists[1][1] == [0x6] && m.segments[0].freeLists[1][3] == [0x8])
        #expect(m.zones[0].allocatedPages == 5 && m.zones[0].freePages == 11)
        #expect(m.freeCount(0x0, count: 6).status == .misuse, "6 = order 2 + order 1 at 0x4, which is order 0")
        #expect(m.freeCount(0x0, count: 5) == .ok(1))
        #expect(m.zones[0].allocatedPages == 0)
        #expect(m.allocateCount(0, migratetype: 1, zone: 2, alignment: 1, owner: 3).status == .misuse)
        #expect(m.allocateCount(2049, migratetype: 1, zone: 2, alignment: 1, owner: 3).status == .misuse)
    }

    @Test func unreserveGivesFramesBackAsOrderZeroBlocks() {
        var m = ReferenceModelTests.model([(0x0, 0x10, 0)])
        #expect(m.reserveRange(start: 0x4, count: 4, owner: 9) == .ok(1))
        #expect(m.unreserve(start: 0x4, count: 5).status == .misuse, "0x8 is not reserved")
        #expect(m.unreserve(start: 0x4, count: 4) == .ok(1))
        #expect(m.segments[0].freeLists[1][4] == [0x0] && m.zones[0].reservedPages == 0 && m.zones[0].pcpCount == 0,
                "merged back, never through the per-CPU cache")
        m.poisoning = true
        m.poisonOracle.overwritten[0x3] = .init(pfn: 0x3, offset: 0, byte: 0)
        #expect(m.reserveRange(start: 0x2, count: 2, owner: 9) == .failed(0))
        #expect(m.unreserve(start: 0x3, count: 1).status == .misuse, "a quarantined frame is not unreserved")
    }
}

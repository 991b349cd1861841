import KernelHarness
import Testing
@testable import KernelMM

@Suite("Allocation API")
struct AllocationTests {
    @Test(arguments: 0...Kmem.maxOrder)
    func everyOrderAllocatesAlignedAndFreesBackToBaseline(order: Int) throws {
        let a = try HostArena()
        let pa = a.allocator
        let before = a.buddyinfo
        let req = AllocationRequest(order: order, migratetype: .movable, ignoreWatermarks: true)
        guard let pfn = try pa.allocate(req) else {
            // order 11 (8 MiB) does not fit in this 24 MiB map's segments
            #expect(order == Kmem.maxOrder)
            return
        }
        #expect(pfn % (1 << UInt64(order)) == 0)
        let head = pa.meta(pfn).pointee
        #expect(head.state.contains([.allocated, .head, .user]) && Int(head.order) == order && head.refcount == 1)
        #expect(a.check().passed, "\(a.check().text)")
        try pa.free(pfn, order: order)
        try pa.drainPerCPU(pa.zone(a.zoneOf(pfn)), all: true)
        #expect(a.buddyinfo == before, "freeing must coalesce back to the boot layout")
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test(arguments: [ZoneConstraint.dma, .dma32, .any])
    func zoneConstraintIsHonoured(constraint: ZoneConstraint) throws {
        let a = try HostArena()
        for order in [0, 1, 3, 5] {
            let pfn = try #require(try a.allocator.allocate(AllocationRequest(order: order, zone: constraint)))
            #expect(a.zoneOf(pfn) <= constraint.highestZone)
        }
        // Requests that allow Normal are served from Normal first.
        if constraint == .any {
            let pfn = try #require(try a.allocator.allocate(AllocationRequest(order: 2, zone: .any)))
            #expect(a.zoneOf(pfn) == 2)
        }
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test(arguments: [(0, 8), (0, 64), (2, 32), (3, 512), (1, 2)] as [(Int, UInt64)])
    func alignmentBeyondTheOrder(order: Int, alignment: UInt64) throws {
        let a = try HostArena()
        // fragment a little first so aligned blocks must be searched for
        for _ in 0..<5 { _ = try a.allocator.allocate(AllocationRequest(order: 0)) }
        let pfn = try #require(try a.allocator.allocate(AllocationRequest(order: order, alignment: alignment)))
        #expect(pfn % alignment == 0)
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func invalidArgumentsAreMisuse() throws {
        let a = try HostArena()
        #expect(throws: KmemError.invalidOrder(order: 12)) { try a.allocator.allocate(AllocationRequest(order: 12)) }
        #expect(throws: KmemError.invalidOrder(order: -1)) { try a.allocator.allocate(AllocationRequest(order: -1)) }
        #expect(throws: KmemError.invalidAlignment(pages: 3)) { try a.allocator.allocate(AllocationRequest(order: 0, alignment: 3)) }
        #expect(throws: KmemError.invalidAlignment(pages: 0)) { try a.allocator.allocate(AllocationRequest(order: 0, alignment: 0)) }
    }

    @Test func watermarksHoldBackTheLastPages() throws {
        let a = try HostArena()
        let pa = a.allocator
        var got = 0
        while try pa.allocate(AllocationRequest(order: 0, zone: .dma)) != nil { got += 1 }
        let dma = pa.zone(0).pointee
        // what is left in DMA is at most the min watermark (plus cached frames drained back)
        #expect(dma.freePages <= dma.watermarkMin)
        #expect(dma.freePages > 0)
        // an emergency request may go below the watermark
        let pfn = try pa.allocate(AllocationRequest(order: 0, zone: .dma, ignoreWatermarks: true))
        #expect(pfn != nil)
        #expect(got > 0)
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func lowmemReserveKeepsDMAForDMARequests() throws {
        let a = try HostArena()
        let pa = a.allocator
        // Exhaust Normal and DMA32 with unconstrained requests; DMA must keep its lowmem reserve.
        while try pa.allocate(AllocationRequest(order: 0, zone: .any)) != nil {}
        let dma = pa.zone(0).pointee
        #expect(dma.freePages >= dma.watermarkMin + dma.lowmemReserve[2] - 1)
        // A DMA request still succeeds from what was kept back.
        #expect(try pa.allocate(AllocationRequest(order: 0, zone: .dma)) != nil)
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func exhaustionAndFullRecovery() throws {
        let a = try HostArena()
        let pa = a.allocator
        let before = a.buddyinfo
        var live: [PFN] = []
        while let p = try pa.allocate(AllocationRequest(order: 0, migratetype: .movable, ignoreWatermarks: true)) { live.append(p) }
        #expect(UInt64(live.count) == (0..<3).reduce(0) { $0 + pa.zone($1).pointee.managedPages })
        #expect(Set(live).count == live.count, "no frame handed out twice")
        #expect(a.check().passed, "\(a.check().text)")
        for p in live.reversed() { try pa.free(p, order: 0) }
        for z in 0..<3 { try pa.drainPerCPU(pa.zone(z), all: true) }
        #expect(a.buddyinfo == before)
        #expect(a.check().passed, "\(a.check().text)")
    }
}

import Testing
@testable import KernelMM

/// Reference counts, count-based allocation and unreserve (kernel/README.md, Rules).
@Suite("get/put, allocateCount/freeCount, unreserve")
struct NewAPITests {
    @Test func sharedBlockIsFreedByTheLastPut() throws {
        let a = try Arena()
        let pa = a.allocator
        let free0 = pa.zone(2).pointee.freePages
        let p = try #require(try pa.allocate(AllocationRequest(order: 2)))
        #expect(try pa.get(p) == 2)
        #expect(try pa.get(p) == 3)
        #expect(a.check().passed, "\(a.check().text)")
        #expect(throws: KmemError.badRefcount(pfn: p, refcount: 3)) { try pa.free(p, order: 2) }
        #expect(try pa.put(p) == 2)
        #expect(try pa.put(p) == 1)
        #expect(pa.meta(p).pointee.state.contains(.allocated))
        #expect(try pa.put(p) == 0)
        #expect(pa.meta(p).pointee.state.contains(.free))
        #expect(pa.zone(2).pointee.freePages == free0)
        #expect(throws: KmemError.notReferenceable(pfn: p, flags: pa.meta(p).pointee.flags)) { try pa.put(p) }
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test(arguments: [1, 3, 5, 12, 100, 513, 1024] as [UInt64])
    func countAllocationKeepsCountAndGivesTheTailBack(count: UInt64) throws {
        let a = try Arena()
        let pa = a.allocator
        let before = (0..<3).map { pa.zone($0).pointee.freePages + pa.zone($0).pointee.pcp.count }
        guard let p = try pa.allocateCount(count, migratetype: .movable) else {
            Issue.record("no room for \(count) frames"); return
        }
        let zone = a.zoneOf(p)
        let after = pa.zone(zone).pointee.freePages + pa.zone(zone).pointee.pcp.count
        #expect(before[zone] - after == count, "exactly count frames left the free lists")
        for f in p..<(p + count) { #expect(pa.meta(f).pointee.state.contains(.allocated)) }
        #expect(a.check().passed, "\(a.check().text)")
        try pa.freeCount(p, count: count)
        let back = pa.zone(zone).pointee.freePages + pa.zone(zone).pointee.pcp.count
        #expect(back == before[zone])
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func freeCountMustMatchTheAllocation() throws {
        let a = try Arena()
        let pa = a.allocator
        let p = try #require(try pa.allocateCount(5))
        #expect(throws: KmemError.countMismatch(pfn: p + 4, count: 6)) { try pa.freeCount(p, count: 6) }
        #expect(throws: KmemError.invalidCount(count: 0)) { try pa.freeCount(p, count: 0) }
        #expect(throws: KmemError.invalidCount(count: 4096)) { _ = try pa.allocateCount(4096) }
        try pa.freeCount(p, count: 5)
    }

    @Test func unreserveGivesFramesBack() throws {
        let a = try Arena()
        let pa = a.allocator
        let free0 = pa.zone(1).pointee.freePages
        #expect(try pa.reserveRange(start: 0x700, count: 4))
        #expect(throws: KmemError.notReserved(pfn: 0x704, flags: pa.meta(0x704).pointee.flags)) {
            try pa.unreserve(start: 0x700, count: 5)
        }
        try pa.unreserve(start: 0x700, count: 4)
        #expect(pa.zone(1).pointee.freePages == free0 && pa.zone(1).pointee.reservedPages == 0)
        #expect(a.check().passed, "\(a.check().text)")
    }
}

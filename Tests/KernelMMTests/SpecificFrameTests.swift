import KernelHarness
import Testing
@testable import KernelMM

@Suite("Specific frames, reserved ranges, per-CPU cache, pageblocks, poisoning")
struct SpecificFrameTests {
    @Test func allocateOneChosenFrame() throws {
        let a = try HostArena()
        let pa = a.allocator
        #expect(try pa.allocateFrame(0x9A3, owner: 7))
        let m = pa.meta(0x9A3).pointee
        #expect(m.state.contains([.allocated, .head]) && m.owner == 7 && m.order == 0)
        #expect(try pa.allocateFrame(0x9A3) == false, "busy frame")
        #expect(a.check().passed, "\(a.check().text)")
        try pa.free(0x9A3, order: 0)
        #expect(try pa.allocateFrame(0x9A3), "the frame is on the per-CPU list and can be claimed again")
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func reserveRange() throws {
        let a = try HostArena()
        let pa = a.allocator
        let p = try #require(try pa.allocate(AllocationRequest(order: 0, zone: .dma)))
        #expect(try pa.reserveRange(start: p, count: 2) == false, "a busy frame makes the whole range fail")
        #expect(pa.meta(p + 1).pointee.state.contains(.free) || pa.meta(p + 1).pointee.state.contains(.pcp) || pa.meta(p + 1).pointee.state.contains(.allocated))
        #expect(try pa.reserveRange(start: 0xA00, count: 37, owner: 9))
        for f in 0xA00..<(0xA00 + 37) as Range<PFN> { #expect(pa.meta(f).pointee.state.contains(.reserved)) }
        #expect(pa.zone(1).pointee.reservedPages == 37)
        #expect(a.check().passed, "\(a.check().text)")
        #expect(throws: KmemError.outsideManagedMemory(pfn: 0x600)) { try pa.reserveRange(start: 0x5FF, count: 2) }
    }

    @Test func perCPUCacheBatchesAndDrains() throws {
        let a = try HostArena()
        let pa = a.allocator
        let z = pa.zone(2)
        let pcp = pa.perCPU(2, cpu: 0)
        let p = try #require(try pa.allocate(AllocationRequest(order: 0)))
        #expect(a.zoneOf(p) == 2)
        // the first order-0 allocation refilled a batch; the rest stay cached
        #expect(pcp.pointee.count == pcp.pointee.batch - 1)
        var live: [PFN] = [p]
        for _ in 0..<40 { live.append(try #require(try pa.allocate(AllocationRequest(order: 0)))) }
        for q in live { try pa.free(q, order: 0) }
        #expect(pcp.pointee.count <= pcp.pointee.high)
        #expect(pcp.pointee.count > 0)
        #expect(a.check().passed, "\(a.check().text)")
        try pa.drainPerCPU(z, all: true)
        #expect(pcp.pointee.count == 0)
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func unmovableRequestStealsAndClaimsAPageblock() throws {
        let a = try HostArena()
        let pa = a.allocator
        let seg = pa.segment(4)  // Normal [0xF00, 0x1800): all pageblocks movable at boot
        #expect(pa.pageblockMigratetype(segment: seg, pfn: 0x1000) == 1)
        let p = try #require(try pa.allocate(AllocationRequest(order: 3, migratetype: .unmovable)))
        #expect(a.zoneOf(p) == 2)
        let s = pa.segment(try #require(pa.segmentIndex(containing: p)))
        #expect(pa.pageblockMigratetype(segment: s, pfn: p) == 0, "the stolen block's pageblock is now unmovable")
        // a second unmovable request is served from the claimed pageblock's unmovable lists
        let q = try #require(try pa.allocate(AllocationRequest(order: 3, migratetype: .unmovable)))
        #expect(q >> 9 == p >> 9)
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func poisonIsCheckedOnAllocation() throws {
        let a = try HostArena(poison: true)
        let pa = a.allocator
        #expect(pa.meta(0x900).pointee.state.contains(.poisonFill))
        #expect(try pa.allocateFrame(0x900))
        // the frame holds no pattern once allocated, and may be written
        #expect(!pa.meta(0x900).pointee.state.contains(.poisonFill))
        pa.virt(PFN(0x900)).storeBytes(of: 0x42, as: UInt8.self)
        try pa.free(0x900, order: 0)
        #expect(pa.meta(0x900).pointee.state.contains(.poisonFill))
        // a write after free lands in a poisoned page: the frame is quarantined, not handed out
        pa.virt(PFN(0x900).address &+ 100).storeBytes(of: 0x5A, as: UInt8.self)
        #expect(try pa.allocateFrame(0x900) == false)
        #expect(pa.meta(0x900).pointee.state.contains([.reserved, .poisoned]))
        #expect(a.check().passed, "\(a.check().text)")
    }
}

/// One tag per pageblock per zone, also when a hole splits the pageblock between segments.
@Suite("Pageblocks split by a hole")
struct SharedPageblockTests {
    /// The standard map with DMA32's first range cut by a hole at [0x580, 0x5C0) (pages):
    /// pageblock [0x400, 0x600) lies in two segments.
    static var map: ArenaMap {
        var m = ArenaMap.standard
        m.regions[2] = MemoryRegion(base: 0x100000, length: 0x480000, type: 1)
        m.regions.insert(MemoryRegion(base: 0x5C0000, length: 0x40000, type: 1), at: 3)
        return m
    }

    @Test func claimingRetagsAndMovesEveryPart() throws {
        let a = try HostArena(map: Self.map)
        let pa = a.allocator
        let left = try #require(pa.segmentIndex(containing: 0x500)), right = try #require(pa.segmentIndex(containing: 0x5D0))
        #expect(left != right)
        try pa.claimPageblock(pa.segment(left), 0x500, 0)
        #expect(pa.pageblockMigratetype(segment: pa.segment(left), pfn: 0x500) == 0)
        #expect(pa.pageblockMigratetype(segment: pa.segment(right), pfn: 0x5D0) == 0)
        #expect(pa.meta(0x5C0).pointee.migratetype == 0, "the free block in the other part moved too")
        #expect(a.check().passed, "\(a.check().text)")
        // a copy that disagrees is found
        pa.pageblockTag(pa.segment(right), 0x5D0).pointee = 1
        #expect(!a.check().passed)
    }
}

import KernelHarness
import Testing
@testable import KernelMM

/// Page poisoning's check before frames are handed out: a frame whose pattern was
/// overwritten is quarantined (its own nested log entry) and the allocation starts again.
@Suite("Quarantine of poisoned frames")
struct QuarantineTests {
    /// Overwrites one byte of frame `pfn`'s contents (a write after free).
    func scribble(_ pa: PageAllocator, _ pfn: PFN, offset: Int = 8, byte: UInt8 = 0x5A) {
        pa.virt(pfn.address &+ UInt64(offset)).storeBytes(of: byte, as: UInt8.self)
    }

    @Test func perCPUFrameIsQuarantinedAndTheNextOneHandedOut() throws {
        let a = try HostArena(poison: true)
        let pa = a.allocator
        let p = try #require(try pa.allocate(AllocationRequest(order: 0)))
        try pa.free(p, order: 0)  // p is now the first frame of its per-CPU list
        #expect(pa.meta(p).pointee.state.contains(.pcp))
        scribble(pa, p, offset: 24)
        let reservedBefore = pa.zone(a.zoneOf(p)).pointee.reservedPages
        let seqBefore = pa.state.pointee.sequence
        let q = try #require(try pa.allocate(AllocationRequest(order: 0)))
        #expect(q != p)
        #expect(pa.meta(p).pointee.state.contains([.reserved, .poisoned]))
        #expect(pa.meta(p).pointee.owner == Kmem.quarantineOwner)
        #expect(pa.zone(a.zoneOf(p)).pointee.reservedPages == reservedBefore + 1)
        // the allocation is seq+1, the quarantine nested in it seq+2
        let alloc = try #require(pa.logEntry(seqBefore + 1))
        let quarantine = try #require(pa.logEntry(seqBefore + 2))
        #expect(alloc.kind == OpKind.allocate.rawValue && alloc.result == q.raw && alloc.status == OpStatus.ok.rawValue)
        #expect(quarantine.kind == OpKind.quarantine.rawValue && quarantine.parent == seqBefore + 1)
        #expect(quarantine.address == p.raw && quarantine.size == 24 && quarantine.result == 0x5A)
        #expect(a.check().passed, "\(a.check().text)")
        #expect(throws: KmemError.freeReserved(pfn: p)) { try pa.free(p, order: 0) }
    }

    @Test func buddyBlockIsSplitAroundTheBadFrame() throws {
        let a = try HostArena(poison: true)
        let pa = a.allocator
        // the order-3 block an order-3 request would take, found by taking and giving it back
        let p = try #require(try pa.allocate(AllocationRequest(order: 3)))
        try pa.free(p, order: 3)
        scribble(pa, p + 5)
        let q = try #require(try pa.allocate(AllocationRequest(order: 3)))
        #expect(q != p)
        #expect(pa.meta(p + 5).pointee.state.contains([.reserved, .poisoned]))
        // the rest of p's block stayed free
        for f in (p..<(p + 8)) where f != p + 5 { #expect(pa.meta(f).pointee.state.contains(.free)) }
        #expect(a.check().passed, "\(a.check().text)")
    }

    @Test func reservationOfABadFrameFailsAndQuarantinesIt() throws {
        let a = try HostArena(poison: true)
        let pa = a.allocator
        scribble(pa, 0x702)
        #expect(try pa.reserveRange(start: 0x700, count: 4) == false)
        #expect(pa.meta(0x702).pointee.state.contains([.reserved, .poisoned]))
        for f: PFN in [0x700, 0x701, 0x703] { #expect(pa.meta(f).pointee.state.contains(.free)) }
        #expect(a.check().passed, "\(a.check().text)")
    }
}

import KernelHarness
import Testing
@testable import KernelMM

/// The self-check is only worth something if it fails on real corruption: each test breaks
/// the state in one named way and expects that check to fire.
@Suite("Self-check detects corruption")
struct SelfCheckDetectionTests {
    func fired(_ a: HostArena) -> Set<SelfCheck> {
        let r = a.allocator.selfCheck()
        return Set(SelfCheck.allCases.filter { r.fired($0) })
    }

    /// A free head of order ≥ 1 in segment 4 (Normal), and its list index.
    func someFreeBlock(_ a: HostArena) -> (pfn: PFN, order: Int) {
        let seg = a.allocator.segment(4)
        for k in (1...Kmem.maxOrder).reversed() {
            let p = PFN(seg.pointee.freeHeads[freeListIndex(1, k)])
            if !p.isNoFrame { return (p, k) }
        }
        fatalError("no free block")
    }

    @Test func cleanStatePasses() throws {
        let a = try HostArena()
        #expect(a.allocator.selfCheck().passed)
    }

    @Test func parityFlip() throws {
        let a = try HostArena()
        let (p, k) = someFreeBlock(a)
        a.allocator.toggleParity(a.allocator.segment(4), p, k)
        #expect(fired(a).contains(.parity))
    }

    @Test func brokenLink() throws {
        let a = try HostArena()
        _ = try a.allocator.allocate(AllocationRequest(order: 0, migratetype: .movable))  // splits: lists with several nodes
        let seg = a.allocator.segment(4)
        var head = Kmem.none
        for k in 0...Kmem.maxOrder where seg.pointee.freeCounts[freeListIndex(1, k)] >= 1 { head = seg.pointee.freeHeads[freeListIndex(1, k)]; break }
        a.allocator.meta(PFN(head)).pointee.prev = 0x1234
        #expect(fired(a).contains(.freeListLinks))
    }

    @Test func wrongOrderOnFreeHead() throws {
        let a = try HostArena()
        let (p, k) = someFreeBlock(a)
        a.allocator.meta(p).pointee.order = UInt8(k - 1)
        #expect(!fired(a).isEmpty)
        #expect(fired(a).contains(.freeListEntry) || fired(a).contains(.tiling))
    }

    @Test func counterDrift() throws {
        let a = try HostArena()
        a.allocator.zone(2).pointee.freePages += 1
        #expect(fired(a).contains(.counters))
    }

    @Test func allocBitmapFlip() throws {
        let a = try HostArena()
        let seg = a.allocator.segment(3)
        a.allocator.markInUse(seg, seg.pointee.start + 5, 1, true)
        #expect(fired(a) == [.allocBitmap])
    }

    @Test func lostBlock() throws {
        let a = try HostArena()
        let (p, _) = someFreeBlock(a)
        let seg = a.allocator.segment(4)
        // unlink it by hand, keeping counters: the block is FREE|HEAD but on no list
        let m = a.allocator.meta(p).pointee
        let idx = freeListIndex(Int(m.migratetype), Int(m.order))
        if m.prev == Kmem.none { seg.pointee.freeHeads[idx] = m.next } else { a.allocator.meta(m.prevFrame).pointee.next = m.next }
        if m.next != Kmem.none { a.allocator.meta(m.nextFrame).pointee.prev = m.prev }
        #expect(fired(a).contains(.freeListMembership))
    }

    @Test func refcount() throws {
        let a = try HostArena()
        let p = try #require(try a.allocator.allocate(AllocationRequest(order: 1)))
        a.allocator.meta(p).pointee.refcount = 0
        #expect(fired(a) == [.refcount])
        a.allocator.meta(p).pointee.refcount = 2   // shared (get): legal
        #expect(fired(a).isEmpty)
    }

    @Test func pageblockTag() throws {
        let a = try HostArena()
        a.allocator.pageblockTag(a.allocator.segment(4), 0x1000).pointee = 7
        #expect(fired(a).contains(.pageblockTags))
    }

    @Test func staleHeadInsideABlock() throws {
        let a = try HostArena()
        let (p, _) = someFreeBlock(a)
        a.allocator.meta(p + 1).pointee.state.insert(.head)
        #expect(fired(a).contains(.interiorHead))
    }

    @Test func overlap() throws {
        let a = try HostArena()
        let (p, _) = someFreeBlock(a)
        // a frame inside a free block also marked allocated
        a.allocator.meta(p + 2).pointee.state.insert(.allocated)
        #expect(fired(a).contains(.tiling))
    }
}

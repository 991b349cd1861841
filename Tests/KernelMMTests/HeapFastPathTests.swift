import KernelHarness
import Testing
@testable import KernelMM

/// The slab heap's fast path (kernel/README.md, "Slab heap"): objects handed out hold the
/// poison, the double-free check walks the free list only for objects that look free (or the
/// slab's last object in use), and poison damage is found to the byte by the word-wise check.
@Suite("Slab heap fast path")
struct HeapFastPathTests {
    @Test(arguments: [16, 32, 64, 128, 256, 512, 1024, 2048] as [UInt64])
    func handedOutObjectsHoldThePoisonInEveryByte(size: UInt64) throws {
        let a = try HostArena()
        let p = try a.allocator.kmalloc(size: size)
        let bytes = UnsafeBufferPointer(start: UnsafePointer<UInt8>(bitPattern: UInt(p))!, count: Int(size))
        #expect(bytes.allSatisfy { $0 == Kmem.slabPoison })
        try a.allocator.kfree(p)
        #expect(a.check().passed, "\(a.check().text)")
    }

    /// A free object that a user wrote as a free object looks (link 0, poison intact) and a
    /// free object proper are both found on the list: a double free of either is named.
    @Test func doubleFreesAreNamedWhetherOrNotTheObjectLooksFree() throws {
        let a = try HostArena()
        let pa = a.allocator
        let keep = try pa.kmalloc(size: 64)
        let looksFree = try pa.kmalloc(size: 64)
        UnsafeMutablePointer<UInt64>(bitPattern: UInt(looksFree))!.pointee = 0  // a free object's shape, but in use
        let p = try pa.kmalloc(size: 64)
        try pa.kfree(p)
        #expect(throws: KmemError.heapDoubleFree(address: p)) { try pa.kfree(p) }
        try pa.kfree(looksFree)  // looked free, walked, not on the list: an ordinary free
        #expect(throws: KmemError.heapDoubleFree(address: looksFree)) { try pa.kfree(looksFree) }
        try pa.kfree(keep)
        #expect(a.check().passed, "\(a.check().text)")
    }

    /// Freeing what would be the slab's last object in use always walks the list, so a double
    /// free cannot return a slab that still holds an object, even after a write after free.
    @Test func aDoubleFreeThatWouldReturnTheSlabIsNamedAfterAWriteAfterFree() throws {
        let a = try HostArena()
        let pa = a.allocator
        let keep = try pa.kmalloc(size: 32)
        let p = try pa.kmalloc(size: 32)
        try pa.kfree(p)
        UnsafeMutablePointer<UInt8>(bitPattern: UInt(p + 20))!.pointee = 0x99  // write after free
        let slab = pa.meta(PFN((p - pa.state.pointee.directMapOffset) >> 12))
        let before = (slab.pointee.slabFree, slab.pointee.slabInfo, pa.cache(1).pointee.inUse)
        #expect(throws: KmemError.heapDoubleFree(address: p)) { try pa.kfree(p) }
        #expect((slab.pointee.slabFree, slab.pointee.slabInfo, pa.cache(1).pointee.inUse) == before, "misuse changes nothing")
        #expect(slab.pointee.state.contains(.slab), "the slab still holds an object and stays")
        _ = keep
    }

    /// The documented limit: a double free of an object whose poison was already overwritten
    /// is not named at the kfree (the slab keeps other objects in use); the object, now twice
    /// on the list, is found as corruption when the heap hands it out the second time.
    @Test func aDoubleFreeAfterAWriteAfterFreeIsFoundAsCorruptionLater() throws {
        let a = try HostArena()
        let pa = a.allocator
        let keep1 = try pa.kmalloc(size: 512)
        let keep2 = try pa.kmalloc(size: 512)
        let p = try pa.kmalloc(size: 512)
        try pa.kfree(p)
        UnsafeMutablePointer<UInt8>(bitPattern: UInt(p + 100))!.pointee = 0x99  // write after free
        try pa.kfree(p)
        var found: KmemError?
        for _ in 0..<10 {
            do { _ = try pa.kmalloc(size: 512) } catch { found = error; break }
        }
        #expect(found?.isCorruption == true, "\(String(describing: found))")
        _ = (keep1, keep2)
    }

    @Test(arguments: [(16, 8), (16, 15), (32, 8), (32, 17), (32, 31), (64, 40), (2048, 8), (2048, 2047), (2048, 1029)] as [(UInt64, Int)])
    func poisonDamageIsFoundToTheByte(size: UInt64, offset: Int) throws {
        let a = try HostArena()
        let pa = a.allocator
        let keep = try pa.kmalloc(size: size)
        let p = try pa.kmalloc(size: size)
        try pa.kfree(p)
        UnsafeMutablePointer<UInt8>(bitPattern: UInt(p) + UInt(offset))!.pointee = 0x42
        #expect(throws: KmemError.slabPoisonOverwritten(address: p, offset: UInt64(offset), found: 0x42)) {
            _ = try pa.kmalloc(size: size)
        }
        _ = keep
    }
}

import AllocatorText
import AllocatorView
@testable import LinuxKernel
import Testing

/// Linux's SLUB state → ``HeapView`` → `ProcText.slabinfo`, the one slabinfo renderer: the
/// lines /proc/slabinfo prints (`cache_show`: `%-17s %6lu %6lu %6u %4u %4d`), a name longer
/// than its column and numbers wider than theirs kept whole, as the guest's own file (which
/// LinuxGuestTests' `SlabinfoBracket` compares with on a real guest).
@Suite("Allocator view: SLUB as the heap view")
struct SlubHeapViewTests {
    static func cache(_ name: String, size: UInt32, perSlab: Int, pages: Int, slabs: Int, objects: Int, freeOnPartial: Int) -> SlubCache {
        SlubCache(address: 0xffff_8880_0100_0000, name: name, size: size, objectSize: size - 8, objectsPerSlab: perSlab,
                  pagesPerSlab: pages, slabs: slabs, objects: objects, freeOnPartial: freeOnPartial, partialSlabs: 1, issues: [])
    }

    @Test func slabinfoIsWhatSLUBPrints() {
        let state = SlubState(caches: [
            Self.cache("kmalloc-64", size: 64, perSlab: 64, pages: 1, slabs: 3, objects: 192, freeOnPartial: 62),
            Self.cache("ext4_inode_cache_long", size: 1184, perSlab: 27, pages: 8, slabs: 1_234_567, objects: 33_333_309, freeOnPartial: 9),
        ], listIssue: nil)
        let view = state.heapView
        #expect(view.caches.map(\.activeObjects) == [130, 33_333_300])
        #expect(view.caches.map(\.objectSize) == [64, 1184], "slabinfo's <objsize> is s->size, not s->object_size")
        #expect(ProcText.slabinfo(heap: view) == """
            slabinfo - version: 2.1
            # name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>
            kmalloc-64           130    192     64   64    1 : tunables    0    0    0 : slabdata      3      3      0
            ext4_inode_cache_long 33333300 33333309   1184   27    8 : tunables    0    0    0 : slabdata 1234567 1234567      0

            """)
    }

    /// A count below zero (a corrupted guest's `freeOnPartial` above its objects) is shown as
    /// the kernel's `unsigned long` arithmetic gives it, not trapped on.
    @Test func aNegativeCountDoesNotTrap() {
        let state = SlubState(caches: [Self.cache("bad", size: 32, perSlab: 128, pages: 1, slabs: 1, objects: 1, freeOnPartial: 3)], listIssue: nil)
        #expect(state.heapView.caches[0].activeObjects == UInt64.max - 1)
    }
}

import AllocatorView

extension SlubState {
    /// SLUB's caches as the kernel-neutral ``HeapView`` that `ProcText.slabinfo` prints, in
    /// `slab_caches` order, with /proc/slabinfo's numbers (mm/slub.c `get_slabinfo`):
    /// `objectSize` is `s->size` (the object with its metadata, slabinfo's `<objsize>`), every
    /// slab counts as active, and `activeObjects` leaves out the free objects of the partial
    /// slabs. Counts are read from the guest as signed words; one below zero (a corrupted guest)
    /// is shown as the kernel's `unsigned long` arithmetic gives it, never a trap.
    public var heapView: HeapView {
        func count(_ v: Int) -> UInt64 { UInt64(bitPattern: Int64(v)) }
        return HeapView(caches: caches.map { c in
            SlabCacheView(name: c.name, objectSize: UInt64(c.size), objectsPerSlab: count(c.objectsPerSlab),
                          pagesPerSlab: count(c.pagesPerSlab), activeObjects: count(c.activeObjects), totalObjects: count(c.objects),
                          activeSlabs: count(c.slabs), slabs: count(c.slabs))
        })
    }
}

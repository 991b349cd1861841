import AllocatorView

extension ProcText {
    /// /proc/slabinfo, version 2.1 (`cache_show`): one line per cache
    /// (`%-17s %6lu %6lu %6u %4u %4d`, then tunables and slabdata). No heap, no caches.
    public static func slabinfo(_ view: AllocatorView) -> String { slabinfo(heap: view.heap) }

    /// /proc/slabinfo of a heap alone: what a producer that reads only the heap prints
    /// (Linux's `slabinfo` reads SLUB's `slab_caches`, not the nodes' free lists).
    public static func slabinfo(heap: HeapView?) -> String {
        var out = "slabinfo - version: 2.1\n"
        out += "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
            + " : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n"
        for c in heap?.caches ?? [] {
            out += left(c.name, 17) + " " + right(c.activeObjects, 6) + " " + right(c.totalObjects, 6) + " "
                + right(c.objectSize, 6) + " " + right(c.objectsPerSlab, 4) + " " + right(c.pagesPerSlab, 4)
                + " : tunables " + right(0, 4) + " " + right(0, 4) + " " + right(0, 4)
                + " : slabdata " + right(c.activeSlabs, 6) + " " + right(c.slabs, 6) + " " + right(0, 6) + "\n"
        }
        return out
    }
}

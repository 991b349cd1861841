/// One SLUB cache as read from guest memory: what /proc/slabinfo prints of it
/// (mm/slub.c `get_slabinfo`, mm/slab_common.c `cache_show`).
public struct SlubCache: Sendable, Equatable {
    public var address: UInt64
    public var name: String
    /// `s->size`: the object with its metadata (what slabinfo's `<objsize>` column prints).
    public var size: UInt32
    /// `s->object_size`: what the caller asked for.
    public var objectSize: UInt32
    /// `oo_objects(s->oo)`, `1 << oo_order(s->oo)`.
    public var objectsPerSlab: Int
    public var pagesPerSlab: Int
    /// Σ over nodes of `nr_slabs`, `total_objects`, and the free objects of the partial slabs.
    public var slabs: Int
    public var objects: Int
    public var freeOnPartial: Int
    /// Partial slabs walked, over all nodes.
    public var partialSlabs: Int
    /// Their `struct slab` addresses (what the heap checks walk).
    public var partialSlabAddresses: [UInt64] = []
    /// The full slabs walked, over all nodes: only caches with `SLAB_STORE_USER` (`slub_debug=U`)
    /// keep them on `kmem_cache_node.full`; SLUB forgets the others' full slabs.
    public var fullSlabAddresses: [UInt64] = []
    /// Lists that did not walk cleanly (node, how it ended).
    public var issues: [String]

    /// `active_objs`: objects less those free on partial slabs (per-CPU slabs count as in use).
    public var activeObjects: Int { objects - freeOnPartial }
}

/// The caches on `slab_caches`, in list order (what /proc/slabinfo prints, in its order).
public struct SlubState: Sendable, Equatable {
    public var caches: [SlubCache]
    /// How the walk of `slab_caches` itself ended, when not closed.
    public var listIssue: String?
}

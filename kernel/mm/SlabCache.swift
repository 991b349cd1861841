/// One size class of the slab heap (as SLUB's `kmem_cache`): order-0 slab pages cut into
/// equal objects. Slab pages are linked through `FrameMeta.next/prev` on the cache's partial
/// list (some objects free) or full list (none free); a slab whose objects are all free goes
/// back to the buddy allocator.
///
/// On a slab page: flags ALLOCATED|HEAD|SLAB|KERNEL, `owner` = cache index, `slabFree` =
/// address of the first free object (0 = none), `slabInfo` = in use | objects << 32. A free
/// object's first 8 bytes hold the address of the next free object (0 ends the list); its
/// other bytes hold `Kmem.slabPoison`.
public struct SlabCache: Sendable {
    /// Bytes per object (a power of two, 16…2048).
    public var objectSize: UInt64
    /// Objects per slab page.
    public var objectsPerSlab: UInt64
    /// First slab page (PFN) of the partial list, `Kmem.none` when empty.
    public var partialHead: UInt64
    /// First slab page (PFN) of the full list, `Kmem.none` when empty.
    public var fullHead: UInt64
    /// Slab pages on the partial list.
    public var partialSlabs: UInt64
    /// Slab pages on the full list.
    public var fullSlabs: UInt64
    /// Objects in use in all slabs.
    public var inUse: UInt64
    /// Objects handed out since boot.
    public var allocations: UInt64
    /// Objects freed since boot.
    public var frees: UInt64
}

/// The slab heap's root: the caches and the large (whole-block) allocations.
public struct HeapState: Sendable {
    /// Caches in use (8: 16 … 2048 bytes).
    public var cacheCount: UInt64
    /// Live allocations larger than 2048 bytes, each a whole buddy block.
    public var largeAllocations: UInt64
    /// Pages in those blocks.
    public var largePages: UInt64
    /// The size classes, smallest first.
    public var caches: InlineArray<8, SlabCache>
    /// The heap's lock (kernel/README.md "Slab heap"): every `kmalloc` and `kfree` holds it,
    /// with interrupts off, from before it takes its sequence number until after it wrote its
    /// log entry. One lock for the heap, not one per cache: `kfree` learns the cache from the
    /// slab page's owner, which changes when the page is released and reused. Appended.
    public var lock: TicketLockWord
}

/// One CPU's order-0 page cache of one zone, shaped as Linux's pcp lists: entry
/// `cpu × 3 + zone` of the table at `KmemState.perCPUPages` (kernel/README.md "Per-CPU caches").
/// frees of single pages park here, allocations take from here, and the lists are
/// refilled from and drained to the buddy lists `batch` frames at a time, keeping at most
/// `high` frames. Cached frames carry `FrameFlags.pcp`: neither free nor allocated.
///
/// Every change to an entry is made holding its ``lock`` (kernel/README.md "Per-CPU cache
/// locks"): a cache hit holds only that lock; refill, drain and claims hold the zone's lock
/// first, then this one.
public struct PerCPUPages: Sendable {
    /// Frames on all lists.
    public var count: UInt64
    /// Most frames kept before a drain.
    public var high: UInt64
    /// Frames moved per refill or drain.
    public var batch: UInt64
    /// Head PFN of the list of each migratetype slot, `Kmem.none` when empty.
    public var heads: InlineArray<4, UInt64>
    /// Frames on the list of each migratetype slot.
    public var counts: InlineArray<4, UInt64>
    /// Tail PFN (the coldest frame) of the list of each slot, `Kmem.none` when empty.
    public var tails: InlineArray<4, UInt64>
    /// The slot the next drain starts at (round-robin, as Linux's `free_pcppages_bulk`).
    public var drainCursor: UInt64
    /// The entry's own ticket lock (Linux's `pcp->lock`), the last field (appended: no earlier
    /// field moved). Taken by its own CPU on every cache hit, and by a holder of the zone's lock
    /// (its own CPU refilling or draining, any CPU claiming a frame on this list).
    public var lock: TicketLockWord
}

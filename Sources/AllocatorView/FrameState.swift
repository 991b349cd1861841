/// What one physical frame is doing, in terms any buddy allocator shares.
public enum FrameState: Sendable, Equatable {
    /// The head of a free block of `order` (on a buddy free list).
    case freeHead(order: Int)
    /// Inside a free block whose head is `head`.
    case freeTail(head: UInt64)
    /// On a per-CPU list.
    case perCPU
    /// Handed out (`refcount` when the kernel keeps one); `slab` when it backs a slab.
    case allocated(refcount: UInt64?, slab: Bool)
    /// Reserved: never given to the allocator.
    case reserved
    /// None of the above, or contradictory flags: `detail` says what was found.
    case other(detail: String)
}

/// Looks a frame's state up by PFN. The bundled kernel's `FrameTable` and Linux's
/// `struct page` reader both answer it; views that show a frame use only this.
public protocol FrameStateLookup {
    /// The state of frame `pfn`, or nil when it lies outside the frames the kernel describes
    /// or cannot be read.
    func frameState(_ pfn: UInt64) -> FrameState?
}

/// Intrusive doubly linked lists of frames through `FrameMeta.next/prev` (PFNs,
/// `Kmem.none` at the ends). The buddy free lists, the per-CPU lists and the slab caches'
/// partial/full lists are all this one list; each names its head by pointer.
extension PageAllocator {
    /// Links `pfn` at the front of the list whose head is `head`.
    func linkFront(_ pfn: UInt64, head: UnsafeMutablePointer<UInt64>) {
        let m = meta(pfn)
        let first = head.pointee
        m.pointee.next = first
        m.pointee.prev = Kmem.none
        if first != Kmem.none && first < frameCount { meta(first).pointee.prev = pfn }
        head.pointee = pfn
    }

    /// Unlinks `pfn` from the list whose head is `head`, checking first that its neighbours
    /// (or the head) point back at it; on a mismatch nothing changes.
    func unlink(_ pfn: UInt64, head: UnsafeMutablePointer<UInt64>) throws(KmemError) {
        let m = meta(pfn)
        let next = m.pointee.next
        let prev = m.pointee.prev
        let p: UnsafeMutablePointer<FrameMeta>? = prev == Kmem.none ? nil : try linked(prev, from: pfn)
        let n: UnsafeMutablePointer<FrameMeta>? = next == Kmem.none ? nil : try linked(next, from: pfn)
        guard p?.pointee.next ?? head.pointee == pfn else { throw .corruptedList(pfn: pfn, link: prev) }
        guard n == nil || n!.pointee.prev == pfn else { throw .corruptedList(pfn: pfn, link: next) }
        if let p { p.pointee.next = next } else { head.pointee = next }
        n?.pointee.prev = prev
        m.pointee.next = Kmem.none
        m.pointee.prev = Kmem.none
    }

    /// The head of free list `index` of a segment.
    @inline(__always)
    func freeListHead(_ seg: UnsafeMutablePointer<Segment>, _ index: Int) -> UnsafeMutablePointer<UInt64> {
        elements(&seg.pointee.freeHeads) + index
    }

    /// The head of the per-CPU list of migratetype slot `slot`.
    @inline(__always)
    func perCPUHead(_ zone: UnsafeMutablePointer<Zone>, _ slot: Int) -> UnsafeMutablePointer<UInt64> {
        elements(&zone.pointee.pcp.heads) + slot
    }

    @inline(__always)
    func elements<let n: Int>(_ p: UnsafeMutablePointer<InlineArray<n, UInt64>>) -> UnsafeMutablePointer<UInt64> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt64.self)
    }
}

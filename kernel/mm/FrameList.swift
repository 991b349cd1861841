/// Intrusive doubly linked lists of frames through `FrameMeta.next/prev` (PFNs,
/// `Kmem.none` at the ends). The buddy free lists, the per-CPU lists and the slab caches'
/// partial/full lists are all this one list; each names its head by pointer.
extension PageAllocator {
    /// Links `pfn` at the front of the list whose head is `head` (and whose tail, when the
    /// list keeps one, is `tail`).
    func linkFront(_ pfn: UInt64, head: UnsafeMutablePointer<UInt64>, tail: UnsafeMutablePointer<UInt64>? = nil) {
        let m = meta(pfn)
        let first = head.pointee
        m.pointee.next = first
        m.pointee.prev = Kmem.none
        if first != Kmem.none && first < frameCount { meta(first).pointee.prev = pfn }
        if first == Kmem.none { tail?.pointee = pfn }
        head.pointee = pfn
    }

    /// Unlinks `pfn` from the list whose head is `head`, checking first that its neighbours
    /// (or the head) point back at it; on a mismatch nothing changes.
    func unlink(_ pfn: UInt64, head: UnsafeMutablePointer<UInt64>, tail: UnsafeMutablePointer<UInt64>? = nil) throws(KmemError) {
        let m = meta(pfn)
        let next = m.pointee.next
        let prev = m.pointee.prev
        let p: UnsafeMutablePointer<FrameMeta>? = prev == Kmem.none ? nil : try linked(prev, from: pfn)
        let n: UnsafeMutablePointer<FrameMeta>? = next == Kmem.none ? nil : try linked(next, from: pfn)
        guard p?.pointee.next ?? head.pointee == pfn else { throw .corruptedList(pfn: pfn, link: prev) }
        guard n == nil || n!.pointee.prev == pfn else { throw .corruptedList(pfn: pfn, link: next) }
        if let tail, n == nil, tail.pointee != pfn { throw .corruptedList(pfn: pfn, link: tail.pointee) }
        if let p { p.pointee.next = next } else { head.pointee = next }
        n?.pointee.prev = prev
        if n == nil { tail?.pointee = prev }
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

    /// The tail (coldest frame) of the per-CPU list of migratetype slot `slot`.
    @inline(__always)
    func perCPUTail(_ zone: UnsafeMutablePointer<Zone>, _ slot: Int) -> UnsafeMutablePointer<UInt64> {
        elements(&zone.pointee.pcp.tails) + slot
    }

    @inline(__always)
    func elements<let n: Int>(_ p: UnsafeMutablePointer<InlineArray<n, UInt64>>) -> UnsafeMutablePointer<UInt64> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt64.self)
    }
}

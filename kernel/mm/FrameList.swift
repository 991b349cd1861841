/// Intrusive doubly linked lists of frames through `FrameMeta.next/prev` (PFNs,
/// `Kmem.none` at the ends). The buddy free lists, the per-CPU lists and the slab caches'
/// partial/full lists are all this one list; each names its head by pointer.
extension PageAllocator {
    /// Links `pfn` at the front of the list whose head is `head` (and whose tail, when the
    /// list keeps one, is `tail`).
    func linkFront(_ pfn: PFN, head: UnsafeMutablePointer<UInt64>, tail: UnsafeMutablePointer<UInt64>? = nil) {
        let m = meta(pfn)
        let first = PFN(head.pointee)
        m.pointee.nextFrame = first
        m.pointee.prevFrame = .noFrame
        if !first.isNoFrame && first < frameEnd { meta(first).pointee.prevFrame = pfn }
        if first.isNoFrame { tail?.pointee = pfn.raw }
        head.pointee = pfn.raw
    }

    /// Unlinks `pfn` from the list whose head is `head`, checking first that its neighbours
    /// (or the head) point back at it; on a mismatch nothing changes.
    func unlink(_ pfn: PFN, head: UnsafeMutablePointer<UInt64>, tail: UnsafeMutablePointer<UInt64>? = nil) throws(KmemError) {
        let m = meta(pfn)
        let next = m.pointee.nextFrame
        let prev = m.pointee.prevFrame
        let p: UnsafeMutablePointer<FrameMeta>? = prev.isNoFrame ? nil : try linked(prev, from: pfn)
        let n: UnsafeMutablePointer<FrameMeta>? = next.isNoFrame ? nil : try linked(next, from: pfn)
        guard p?.pointee.nextFrame ?? PFN(head.pointee) == pfn else { throw .corruptedList(pfn: pfn, link: prev.raw) }
        guard n == nil || n!.pointee.prevFrame == pfn else { throw .corruptedList(pfn: pfn, link: next.raw) }
        if let tail, n == nil, tail.pointee != pfn.raw { throw .corruptedList(pfn: pfn, link: tail.pointee) }
        if let p { p.pointee.nextFrame = next } else { head.pointee = next.raw }
        n?.pointee.prevFrame = prev
        if n == nil { tail?.pointee = prev.raw }
        m.pointee.nextFrame = .noFrame
        m.pointee.prevFrame = .noFrame
    }

    /// The head of free list `index` of a segment.
    @inline(__always)
    func freeListHead(_ seg: UnsafeMutablePointer<Segment>, _ index: Int) -> UnsafeMutablePointer<UInt64> {
        elements(&seg.pointee.freeHeads) + index
    }

    /// The head of the per-CPU list of migratetype slot `slot`.
    @inline(__always)
    func perCPUHead(_ pcp: UnsafeMutablePointer<PerCPUPages>, _ slot: Int) -> UnsafeMutablePointer<UInt64> {
        elements(&pcp.pointee.heads) + slot
    }

    /// The tail (coldest frame) of the per-CPU list of migratetype slot `slot`.
    @inline(__always)
    func perCPUTail(_ pcp: UnsafeMutablePointer<PerCPUPages>, _ slot: Int) -> UnsafeMutablePointer<UInt64> {
        elements(&pcp.pointee.tails) + slot
    }

    @inline(__always)
    func elements<let n: Int>(_ p: UnsafeMutablePointer<InlineArray<n, UInt64>>) -> UnsafeMutablePointer<UInt64> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt64.self)
    }
}

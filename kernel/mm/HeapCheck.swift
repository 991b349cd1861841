/// The slab heap's part of the self-check (SLUB's `validate_slab` in spirit). Bounded by
/// the number of slab pages and objects.
extension PageAllocator {
    func checkHeap(slabPages: UInt64, _ r: inout SelfCheckReport) {
        var listed: UInt64 = 0
        for i in 0..<Kmem.slabCacheCount {
            let c = cache(i)
            var inUse: UInt64 = 0
            for pass in 0..<2 {
                let full = pass == 1
                var n: UInt64 = 0
                var prev = PFN.noFrame
                var p = PFN(full ? c.pointee.fullHead : c.pointee.partialHead)
                while !p.isNoFrame {
                    guard p < frameEnd, n <= slabPages else { r.fail(.slab, prev, expected: UInt64(i), found: p.raw); break }
                    let m = meta(p)
                    guard m.pointee.prevFrame == prev, m.pointee.state.contains([.allocated, .head, .slab]),
                          m.pointee.owner == Kmem.slabOwnerBase &+ UInt64(i) else {
                        r.fail(.slab, p, expected: Kmem.slabOwnerBase &+ UInt64(i), found: m.pointee.owner)
                        break
                    }
                    let used = checkSlabPage(c, p, &r)
                    if full && used != c.pointee.objectsPerSlab { r.fail(.slab, p, expected: c.pointee.objectsPerSlab, found: used) }
                    if !full && (used == c.pointee.objectsPerSlab || used == 0) { r.fail(.slab, p, expected: 1, found: used) }
                    inUse &+= used
                    n &+= 1
                    prev = p
                    p = m.pointee.nextFrame
                }
                let count = full ? c.pointee.fullSlabs : c.pointee.partialSlabs
                if n != count { r.fail(.slab, PFN(full ? c.pointee.fullHead : c.pointee.partialHead), expected: n, found: count) }
                listed &+= n
            }
            if inUse != c.pointee.inUse { r.fail(.slab, .noFrame, expected: inUse, found: c.pointee.inUse) }
        }
        if listed != slabPages { r.fail(.slab, .noFrame, expected: slabPages, found: listed) }
    }

    /// Walks one slab's free-object list; returns the objects in use by that walk.
    func checkSlabPage(_ c: UnsafeMutablePointer<SlabCache>, _ pfn: PFN, _ r: inout SelfCheckReport) -> UInt64 {
        let m = meta(pfn)
        let base = pageAddress(pfn)
        let size = c.pointee.objectSize
        let objects = c.pointee.objectsPerSlab
        var free: UInt64 = 0
        var f = m.pointee.slabFree
        while f != 0 {
            guard f >= base && f < base &+ Kmem.pageSize && (f &- base) % size == 0, free < objects else {
                r.fail(.slab, pfn, expected: base, found: f)
                return objects &- free
            }
            var i = 8
            let bytes = UnsafeMutablePointer<UInt8>(bitPattern: UInt(f))!
            while i < Int(size) {
                if bytes[i] != Kmem.slabPoison {
                    r.fail(.slabPoison, pfn, expected: f &+ UInt64(i), found: UInt64(bytes[i]))
                    break
                }
                i += 1
            }
            free &+= 1
            f = UnsafeMutablePointer<UInt64>(bitPattern: UInt(f))!.pointee
        }
        let used = objects &- free
        if m.pointee.slabInfo != (objects << 32) | used { r.fail(.slab, pfn, expected: (objects << 32) | used, found: m.pointee.slabInfo) }
        return used
    }
}

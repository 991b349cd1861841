/// The slab kernel heap on top of the buddy allocator (see `SlabCache`). In the kernel it
/// serves the Swift runtime's `posix_memalign` and `free`, so the kernel's own arrays and
/// class instances live here.
extension PageAllocator {
    /// The heap's root.
    @inline(__always) public var heap: UnsafeMutablePointer<HeapState> {
        UnsafeMutablePointer(bitPattern: UInt(state.pointee.heap))!
    }

    /// Sets up the size classes 16, 32, … 2048 bytes (called by `boot`).
    func initHeap() {
        heap.pointee = HeapState(
            cacheCount: UInt64(Kmem.slabCacheCount), largeAllocations: 0, largePages: 0,
            caches: .init(repeating: SlabCache(objectSize: 0, objectsPerSlab: 0, partialHead: Kmem.none,
                                               fullHead: Kmem.none, partialSlabs: 0, fullSlabs: 0, inUse: 0,
                                               allocations: 0, frees: 0)),
            lock: TicketLockWord())
        for i in 0..<Kmem.slabCacheCount {
            let size = Kmem.smallestObject << UInt64(i)
            heap.pointee.caches[i].objectSize = size
            heap.pointee.caches[i].objectsPerSlab = Kmem.pageSize / size
        }
    }

    /// Pointer to cache `index` (the caches are stored inline, in order, in `HeapState`).
    @inline(__always) public func cache(_ index: Int) -> UnsafeMutablePointer<SlabCache> {
        firstElement(&heap.pointee.caches) + index
    }

    /// Allocates `size` bytes aligned to `alignment` (a power of two). Returns the virtual
    /// address, or 0 when memory is exhausted. Sizes above 2048 bytes (after alignment)
    /// take a whole buddy block.
    public func kmalloc(size: UInt64, alignment: UInt64 = 16) throws(KmemError) -> UInt64 {
        var args = OpArguments()
        args.alignment = alignment
        args.size = size
        return try withHeapLock { () throws(KmemError) -> UInt64 in
            try logged(.heapAllocate, args, { (_) throws(KmemError) -> UInt64 in
                try kmallocUnlogged(size: size, alignment: alignment)
            }, outcome: { $0 == 0 ? (.failed, Kmem.none) : (.ok, $0) })
        }
    }

    /// The heap lock's word (`HeapState.lock`).
    @inline(__always)
    public var heapLockWord: UnsafeMutablePointer<TicketLockWord> { Self.address(of: &heap.pointee.lock) }

    /// Runs `body` holding the heap's lock with interrupts off (the zone locks of the page
    /// operations nested in it are taken inside: heap lock first, never the other way round).
    /// The section counts in the running CPU's `busy` and in `KmemState.busy`, as a zone-lock
    /// section does, so `busy` is never 0 with the lock held.
    @inline(__always)
    func withHeapLock<R>(_ body: () throws(KmemError) -> R) throws(KmemError) -> R {
        let op = cpuOperation
        enterBusy(op)
        defer { leaveBusy(op) }
        return try withInterruptsDisabled { (token: borrowing IrqDisabledToken) throws(KmemError) -> R in
            let lock = TicketLock(heapLockWord)
            lock.lock(token)
            defer { lock.unlock(token) }
            return try body()
        }
    }

    func kmallocUnlogged(size: UInt64, alignment: UInt64) throws(KmemError) -> UInt64 {
        guard alignment != 0 && alignment & (alignment &- 1) == 0 else { throw .invalidAlignment(pages: alignment) }
        let need = max(max(size, 1), alignment)
        if need > Kmem.largestObject {
            var order = 0
            while order < Kmem.maxOrder && pages(order) << Kmem.pageShift < need { order += 1 }
            guard pages(order) << Kmem.pageShift >= need else { return 0 }
            guard let pfn = try allocate(AllocationRequest(order: order, migratetype: .unmovable, owner: Kmem.largeHeapOwner)) else { return 0 }
            heap.pointee.largeAllocations &+= 1
            heap.pointee.largePages &+= pages(order)
            return UInt64(UInt(bitPattern: virt(pfn)))
        }
        var index = 0
        while Kmem.smallestObject << UInt64(index) < need { index += 1 }
        return try cacheAllocate(index)
    }

    /// Takes an object from cache `index`, growing it by a slab page when no slab is partial.
    func cacheAllocate(_ index: Int) throws(KmemError) -> UInt64 {
        let c = cache(index)
        if c.pointee.partialHead == Kmem.none {
            guard let pfn = try allocate(AllocationRequest(order: 0, migratetype: .unmovable,
                                                           owner: Kmem.slabOwnerBase &+ UInt64(index))) else { return 0 }
            initSlab(c, pfn, index)
        }
        let pfn = PFN(c.pointee.partialHead)
        let m = try linked(pfn, from: pfn)
        let base = pageAddress(pfn)
        let obj = m.pointee.slabFree
        let size = c.pointee.objectSize
        guard obj >= base && obj < base &+ Kmem.pageSize && isObjectOffset(obj &- base, size) else {
            throw .slabCorrupted(address: base, link: obj)
        }
        let p = UnsafeMutablePointer<UInt64>(bitPattern: UInt(obj))!
        let next = p.pointee
        guard next == 0 || (next >= base && next < base &+ Kmem.pageSize && isObjectOffset(next &- base, size)) else {
            throw .slabCorrupted(address: obj, link: next)
        }
        try checkSlabPoison(obj, size)
        m.pointee.slabFree = next
        m.pointee.slabInfo &+= 1
        m.pointee.lastSeq = sequence
        p.pointee = Kmem.slabPoisonWord  // no stale link for the user; and no longer "looks free"
        c.pointee.inUse &+= 1
        c.pointee.allocations &+= 1
        if next == 0 {
            try unlinkSlab(c, pfn, full: false)
            linkSlab(c, pfn, full: true)
        }
        return obj
    }

    /// Frees a heap address: a slab object goes back to its slab (an empty slab to the buddy
    /// allocator), a large block to the buddy allocator. Misuse throws and changes nothing.
    public func kfree(_ address: UInt64) throws(KmemError) {
        var args = OpArguments()
        args.address = address
        try withHeapLock { () throws(KmemError) in
            try logged(.heapFree, args, { (_) throws(KmemError) in try kfreeUnlogged(address) }, outcome: { (.ok, 1) })
        }
    }

    func kfreeUnlogged(_ address: UInt64) throws(KmemError) {
        let dm = state.pointee.directMapOffset
        guard address >= dm, (address &- dm) >> Kmem.pageShift < frameCount else { throw .heapInvalidFree(address: address) }
        let pfn = PFN((address &- dm) >> Kmem.pageShift)
        let m = meta(pfn)
        let st = m.pointee.state
        if st.contains([.allocated, .head, .slab]) {
            let index = Int(m.pointee.owner &- Kmem.slabOwnerBase)
            guard m.pointee.owner >= Kmem.slabOwnerBase && index < Kmem.slabCacheCount else {
                throw .slabCorrupted(address: address, link: m.pointee.owner)
            }
            let c = cache(index)
            let base = pageAddress(pfn)
            let size = c.pointee.objectSize
            guard isObjectOffset(address &- base, size) else { throw .heapInvalidFree(address: address) }
            // Double free: the object is on its slab's free list. Every free object looks
            // free (its link is 0 or an object of the slab, its poison intact), so only such
            // an object needs the bounded walk of the list — or the slab's last object in
            // use, whose free would return the slab.
            if slabInUse(m) <= 1 || looksFree(address, base: base, size: size) {
                var f = m.pointee.slabFree
                var steps: UInt64 = 0
                while f != 0 && steps <= c.pointee.objectsPerSlab {
                    if f == address { throw .heapDoubleFree(address: address) }
                    guard f >= base && f < base &+ Kmem.pageSize else { throw .slabCorrupted(address: base, link: f) }
                    f = UnsafeMutablePointer<UInt64>(bitPattern: UInt(f))!.pointee
                    steps &+= 1
                }
            }
            let wasFull = m.pointee.slabFree == 0
            fillSlabPoison(address, size)
            UnsafeMutablePointer<UInt64>(bitPattern: UInt(address))!.pointee = m.pointee.slabFree
            m.pointee.slabFree = address
            m.pointee.slabInfo &-= 1
            m.pointee.lastSeq = sequence
            c.pointee.inUse &-= 1
            c.pointee.frees &+= 1
            if wasFull {
                try unlinkSlab(c, pfn, full: true)
                linkSlab(c, pfn, full: false)
            }
            if m.pointee.slabInfo & 0xFFFF_FFFF == 0 {
                try unlinkSlab(c, pfn, full: false)
                transition(m, .slab, head: true, add: m.pointee.state.intersection([.kernel, .user]))
                m.pointee.slabFree = 0
                m.pointee.slabInfo = 0
                try free(pfn, order: 0, heap: true)
            }
            return
        }
        if st.contains([.allocated, .head]) && m.pointee.owner == Kmem.largeHeapOwner && address & (Kmem.pageSize &- 1) == 0 {
            let order = Int(m.pointee.order)
            try free(pfn, order: order, heap: true)
            heap.pointee.largeAllocations &-= 1
            heap.pointee.largePages &-= pages(order)
            return
        }
        throw .heapInvalidFree(address: address)
    }

    @inline(__always)
    func firstElement(_ p: UnsafeMutablePointer<InlineArray<8, SlabCache>>) -> UnsafeMutablePointer<SlabCache> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: SlabCache.self)
    }

    /// Virtual address of page `pfn` in the direct map.
    @inline(__always) func pageAddress(_ pfn: PFN) -> UInt64 {
        pfn.address.raw &+ state.pointee.directMapOffset
    }

    /// Turns a fresh page into a slab of cache `index`: every object free and poisoned,
    /// linked in address order, and the slab on the partial list.
    func initSlab(_ c: UnsafeMutablePointer<SlabCache>, _ pfn: PFN, _ index: Int) {
        let m = meta(pfn)
        let base = pageAddress(pfn)
        let size = c.pointee.objectSize
        let n = c.pointee.objectsPerSlab
        // The whole page poisoned at once (the objects tile it), then each link word.
        let words = UnsafeMutablePointer<UInt64>(bitPattern: UInt(base))!
        var w = 0
        while w < Int(Kmem.pageSize / 8) { words[w] = Kmem.slabPoisonWord; w += 1 }
        var i = n
        var next: UInt64 = 0
        while i > 0 {
            i -= 1
            let obj = base &+ i &* size
            UnsafeMutablePointer<UInt64>(bitPattern: UInt(obj))!.pointee = next
            next = obj
        }
        transition(m, .slab, head: true, add: m.pointee.state.intersection([.kernel, .user]).union(.slab))
        m.pointee.slabFree = base
        m.pointee.slabInfo = n << 32
        linkSlab(c, pfn, full: false)
    }

    /// The head of a cache's full or partial slab list.
    func slabListHead(_ c: UnsafeMutablePointer<SlabCache>, full: Bool) -> UnsafeMutablePointer<UInt64> {
        full ? address(of: &c.pointee.fullHead) : address(of: &c.pointee.partialHead)
    }

    func linkSlab(_ c: UnsafeMutablePointer<SlabCache>, _ pfn: PFN, full: Bool) {
        linkFront(pfn, head: slabListHead(c, full: full))
        if full { c.pointee.fullSlabs &+= 1 } else { c.pointee.partialSlabs &+= 1 }
    }

    func unlinkSlab(_ c: UnsafeMutablePointer<SlabCache>, _ pfn: PFN, full: Bool) throws(KmemError) {
        try unlink(pfn, head: slabListHead(c, full: full))
        if full { c.pointee.fullSlabs &-= 1 } else { c.pointee.partialSlabs &-= 1 }
    }

    /// The address of a field reached through a pointer (inout-to-pointer conversion).
    @inline(__always) func address(of field: UnsafeMutablePointer<UInt64>) -> UnsafeMutablePointer<UInt64> { field }

    /// Fills an object after its link word with `Kmem.slabPoison` (objects are aligned to
    /// their size, at least 16 bytes: whole words).
    func fillSlabPoison(_ obj: UInt64, _ size: UInt64) {
        let p = UnsafeMutablePointer<UInt64>(bitPattern: UInt(obj))!
        var i = 1
        while i < Int(size / 8) { p[i] = Kmem.slabPoisonWord; i += 1 }
    }

    /// The first byte after an object's link word that no longer holds the poison, or nil.
    /// Sizes are powers of two from 16 bytes: word 1, words 2–3, then groups of four words,
    /// each group tested with one OR of its differences; the byte is looked for only in a
    /// group that differs.
    func slabPoisonDamage(_ obj: UInt64, _ size: UInt64) -> (offset: UInt64, found: UInt8)? {
        let p = UnsafeMutablePointer<UInt64>(bitPattern: UInt(obj))!
        let words = Int(size / 8)
        let w = Kmem.slabPoisonWord
        if words > 1 && p[1] != w { return poisonDamage(p, in: 1, 2) }
        if words > 3 && (p[2] ^ w) | (p[3] ^ w) != 0 { return poisonDamage(p, in: 2, 4) }
        var i = 4
        while i &+ 4 <= words {
            if (p[i] ^ w) | (p[i &+ 1] ^ w) | (p[i &+ 2] ^ w) | (p[i &+ 3] ^ w) != 0 { return poisonDamage(p, in: i, i &+ 4) }
            i &+= 4
        }
        return nil
    }

    /// The first byte of words `[from, to)` of an object that is not the poison (one of them is not).
    func poisonDamage(_ p: UnsafeMutablePointer<UInt64>, in from: Int, _ to: Int) -> (offset: UInt64, found: UInt8)? {
        var i = from
        while i < to {
            let d = p[i] ^ Kmem.slabPoisonWord
            if d != 0 {
                let b = d.trailingZeroBitCount / 8  // little-endian: the lowest differing byte comes first
                return (UInt64(i * 8 + b), UInt8(truncatingIfNeeded: p[i] >> UInt64(b * 8)))
            }
            i += 1
        }
        return nil
    }

    /// Checks the poison of a free object (bytes after its link word).
    func checkSlabPoison(_ obj: UInt64, _ size: UInt64) throws(KmemError) {
        if let d = slabPoisonDamage(obj, size) { throw .slabPoisonOverwritten(address: obj, offset: d.offset, found: d.found) }
    }

    /// Objects in use in a slab page (`slabInfo`'s low half).
    @inline(__always) func slabInUse(_ m: UnsafeMutablePointer<FrameMeta>) -> UInt64 { m.pointee.slabInfo & 0xFFFF_FFFF }

    /// Whether the object at `obj` of a slab at `base` could be on the slab's free list: its
    /// link word is 0 or an object of the slab, and its poison is intact. Every free object
    /// does (kmalloc checks both before handing one out); an object handed out starts with
    /// the poison in its link word, so it does not until its user writes exactly that shape.
    func looksFree(_ obj: UInt64, base: UInt64, size: UInt64) -> Bool {
        let link = UnsafeMutablePointer<UInt64>(bitPattern: UInt(obj))!.pointee
        guard link == 0 || (link >= base && link < base &+ Kmem.pageSize && isObjectOffset(link &- base, size)) else { return false }
        return slabPoisonDamage(obj, size) == nil
    }

    /// Whether `offset` into a slab is a multiple of the object size: a mask, since sizes are
    /// powers of two (a division per check cost more than the rest of a kfree); a size that is
    /// not (only a corrupted cache) takes the remainder, and a size of 0 no trap.
    @inline(__always) func isObjectOffset(_ offset: UInt64, _ size: UInt64) -> Bool {
        size & (size &- 1) == 0 ? offset & (size &- 1) == 0 : offset % size == 0
    }
}

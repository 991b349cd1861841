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
                                               allocations: 0, frees: 0)))
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
        return try logged(.heapAllocate, args, { (_) throws(KmemError) -> UInt64 in
            try kmallocUnlogged(size: size, alignment: alignment)
        }, outcome: { $0 == 0 ? (.failed, Kmem.none) : (.ok, $0) })
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
        guard obj >= base && obj < base &+ Kmem.pageSize && (obj &- base) % size == 0 else {
            throw .slabCorrupted(address: base, link: obj)
        }
        let p = UnsafeMutablePointer<UInt64>(bitPattern: UInt(obj))!
        let next = p.pointee
        guard next == 0 || (next >= base && next < base &+ Kmem.pageSize && (next &- base) % size == 0) else {
            throw .slabCorrupted(address: obj, link: next)
        }
        try checkSlabPoison(obj, size)
        m.pointee.slabFree = next
        m.pointee.slabInfo &+= 1
        m.pointee.lastSeq = sequence
        p.pointee = 0
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
        try logged(.heapFree, args, { (_) throws(KmemError) in try kfreeUnlogged(address) }, outcome: { (.ok, 1) })
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
            guard (address &- base) % size == 0 else { throw .heapInvalidFree(address: address) }
            // Double free: the object is on its slab's free list (a bounded walk).
            var f = m.pointee.slabFree
            var steps: UInt64 = 0
            while f != 0 && steps <= c.pointee.objectsPerSlab {
                if f == address { throw .heapDoubleFree(address: address) }
                guard f >= base && f < base &+ Kmem.pageSize else { throw .slabCorrupted(address: base, link: f) }
                f = UnsafeMutablePointer<UInt64>(bitPattern: UInt(f))!.pointee
                steps &+= 1
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
                var s = m.pointee.state
                s.remove(.slab)
                m.pointee.state = s
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
        var i = n
        var next: UInt64 = 0
        while i > 0 {
            i -= 1
            let obj = base &+ i &* size
            fillSlabPoison(obj, size)
            UnsafeMutablePointer<UInt64>(bitPattern: UInt(obj))!.pointee = next
            next = obj
        }
        m.pointee.state.insert(.slab)
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

    /// Fills an object after its link word with `Kmem.slabPoison`.
    func fillSlabPoison(_ obj: UInt64, _ size: UInt64) {
        let p = UnsafeMutablePointer<UInt8>(bitPattern: UInt(obj))!
        var i = 8
        while i < Int(size) { p[i] = Kmem.slabPoison; i += 1 }
    }

    /// Checks the poison of a free object (bytes after its link word).
    func checkSlabPoison(_ obj: UInt64, _ size: UInt64) throws(KmemError) {
        let p = UnsafeMutablePointer<UInt8>(bitPattern: UInt(obj))!
        var i = 8
        while i < Int(size) {
            if p[i] != Kmem.slabPoison { throw .slabPoisonOverwritten(address: obj, offset: UInt64(i), found: p[i]) }
            i += 1
        }
    }
}

/// Reference counts as an API (strat9's `inc_ref`/`dec_ref`): shared blocks, freed when
/// the last reference goes. `free` is the last `put` with an order check.
extension PageAllocator {
    /// Adds a reference to the allocated block whose head is `pfn`. Returns the new count.
    @discardableResult
    public func get(_ pfn: PFN) throws(KmemError) -> UInt32 {
        var args = OpArguments()
        args.address = pfn.raw
        return try withZoneLocks(zoneMask(pfn, through: pfn)) { (_: borrowing ZoneLocksHeld) throws(KmemError) -> UInt32 in
            try logged(.get, args, { (_) throws(KmemError) -> UInt32 in
                let m = try referenceableHead(pfn)
                guard m.pointee.refcount < UInt32.max else { throw .badRefcount(pfn: pfn, refcount: m.pointee.refcount) }
                m.pointee.refcount &+= 1
                m.pointee.lastSeq = sequence
                return m.pointee.refcount
            }, outcome: { (.ok, UInt64($0)) })
        }
    }

    /// Drops a reference to the allocated block whose head is `pfn`; the last one frees the
    /// block as `free` does. Returns the count after (0: freed).
    @discardableResult
    public func put(_ pfn: PFN) throws(KmemError) -> UInt32 {
        var args = OpArguments()
        args.address = pfn.raw
        return try withZoneLocks(zoneMask(pfn, through: pfn)) { (held: borrowing ZoneLocksHeld) throws(KmemError) -> UInt32 in
            try logged(.put, args, { (_) throws(KmemError) -> UInt32 in
                let m = try referenceableHead(pfn)
                if m.pointee.refcount > 1 {
                    m.pointee.refcount &-= 1
                    m.pointee.lastSeq = sequence
                    return m.pointee.refcount
                }
                try freeUnlogged(pfn, order: Int(m.pointee.order), heap: false, held)
                return 0
            }, outcome: { (.ok, UInt64($0)) })
        }
    }

    /// The head of an allocated block that callers may reference-count (not the heap's).
    func referenceableHead(_ pfn: PFN) throws(KmemError) -> UnsafeMutablePointer<FrameMeta> {
        guard segmentIndex(containing: pfn) != nil else { throw .outsideManagedMemory(pfn: pfn) }
        let m = meta(pfn)
        let st = m.pointee.state
        guard st.contains([.allocated, .head]) else { throw .notReferenceable(pfn: pfn, flags: m.pointee.flags) }
        if st.contains(.slab) { throw .freeSlabPage(pfn: pfn) }
        if m.pointee.owner == Kmem.largeHeapOwner { throw .freeHeapBlock(pfn: pfn) }
        guard m.pointee.refcount >= 1 else { throw .badRefcount(pfn: pfn, refcount: 0) }
        return m
    }
}

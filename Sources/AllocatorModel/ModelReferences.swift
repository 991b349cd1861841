/// "Reference counts" of kernel/README.md: `get(pfn)` and `put(pfn)`.
extension ModelState {
    /// Why `get`/`put` of `pfn` is misuse, or nil: "either on a frame that is not an allocated
    /// head, on a slab page or large heap block (the heap owns those), or a count that would wrap".
    func referenceMisuse(_ pfn: UInt64, adding: Bool) -> String? {
        guard segmentIndex(of: pfn) != nil else { return "address outside managed memory" }
        guard let b = allocated[pfn] else { return "not an allocated head" }
        if b.slab || heap.large[pfn] != nil { return "a heap page" }
        if adding ? b.refcount == .max : b.refcount == 0 { return "a count that would wrap" }
        return nil
    }

    /// "`get(pfn)` adds a reference to an allocated block (its head; refcount + 1)"; the log's
    /// result is the refcount after.
    @discardableResult
    public mutating func get(_ pfn: UInt64) -> ModelResult {
        let seq = beginOperation()
        return operation(seq, entry(seq, .get, address: pfn)) { m in
            guard m.referenceMisuse(pfn, adding: true) == nil else { return .misuse }
            m.allocated[pfn]!.refcount += 1
            m.allocated[pfn]!.headLastSeq = seq
            return .ok(UInt64(m.allocated[pfn]!.refcount))
        }
    }

    /// "`put(pfn)` drops one; when the last goes the block is freed exactly as `free(pfn, order)`
    /// frees it" (inside the put's own entry: nothing nested). Result: the refcount after, 0
    /// when the block was freed.
    @discardableResult
    public mutating func put(_ pfn: UInt64) -> ModelResult {
        let seq = beginOperation()
        return operation(seq, entry(seq, .put, address: pfn)) { m in
            guard m.referenceMisuse(pfn, adding: false) == nil else { return .misuse }
            m.allocated[pfn]!.refcount -= 1
            m.allocated[pfn]!.headLastSeq = seq
            let left = m.allocated[pfn]!.refcount
            if left == 0 { m.release(pfn, order: m.allocated[pfn]!.order) }
            return .ok(UInt64(left))
        }
    }
}

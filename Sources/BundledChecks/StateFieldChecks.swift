import AllocatorView

/// `state-fields`: what the other checks cannot see (docs/checks.md's former gaps).
extension Verifier {
    /// `large`: the allocated frames with the large heap's owner, and the heads among them,
    /// over every segment (counted by ``tile(_:_:_:)``).
    func checkStateFields(_ r: inout VerifyReport, large: (blocks: UInt64, pages: UInt64)) {
        guard let s = snapshot.stateFields else { return }
        func fail(_ e: String, _ found: String, zone: String? = nil, segment: Int? = nil) {
            r.add(Violation(.stateFields, zone: zone, segment: segment, expected: e, found: found))
        }
        for c in s.copies where c.found != c.expected {
            fail("\(c.field) \(hexOrNone(c.expected)) (the descriptor's)", hexOrNone(c.found))
        }
        // Read at an operation boundary (busy == 0), no operation can be a parent.
        if let parent = s.parentSequence, parent != 0, snapshot.busy ?? 0 == 0 {
            fail("KmemState.parentSequence 0 between operations", "\(parent)")
        }
        // Between operations (busy == 0) no CPU holds a zone lock (kernel/README.md, "Zone locks").
        if snapshot.busy ?? 0 == 0 {
            for (i, lock) in s.zoneLocks.enumerated() where lock.isHeld {
                fail("Zone.lock free between operations (next == owner)", "next \(lock.next), owner \(lock.owner)", zone: zoneName(i))
            }
            // KmemState.busy is the sum of the CPUs' own counts: 0 means every CPU is outside
            // (kernel/README.md "Operations in progress"), and no CPU holds the heap lock.
            for (c, row) in s.cpuOperations.enumerated() where row.busy != 0 || row.parentSequence != 0 {
                fail("CPU \(c)'s CPUOperation.busy and parentSequence 0 between operations (KmemState.busy 0)",
                     "busy \(row.busy), parentSequence \(row.parentSequence)")
            }
            if let lock = s.heapLock, lock.isHeld {
                fail("HeapState.lock free between operations (next == owner)", "next \(lock.next), owner \(lock.owner)")
            }
            for p in s.perCPULocks where p.words.isHeld {
                fail("CPU \(p.cpu)'s PerCPUPages.lock free between operations (next == owner)",
                     "next \(p.words.next), owner \(p.words.owner)", zone: zoneName(p.zone))
            }
        }
        for (i, kind) in s.zoneKinds.enumerated() where kind != UInt64(i) {
            fail("Zone.kind \(i) (its index)", "\(kind)", zone: zoneName(i))
        }
        for (i, index) in s.segmentIndices.enumerated() where index != UInt64(i) {
            fail("Segment.index \(i) (its position)", "\(index)", segment: i)
        }
        if s.largeOwner != nil, s.largeAllocations != nil || s.largePages != nil {
            // Counted by the tiling walk: allocated frames (and heads) with the large-heap owner.
            let (blocks, pages) = large
            if let n = s.largeAllocations, n != blocks { fail("HeapState.largeAllocations \(blocks) (blocks with the large-heap owner)", "\(n)") }
            if let n = s.largePages, n != pages { fail("HeapState.largePages \(pages) (frames with the large-heap owner)", "\(n)") }
        }
    }
}

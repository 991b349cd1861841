import KernelHarness
import Testing
@testable import KernelMM

/// The per-CPU cache hit (`PerCPUFastPath.swift`) is the general path done in one pass: the
/// same random page traffic run through `allocate`/`free` (hits taken) and through the general
/// path alone (`logged` around `allocateUnlogged`/`freeUnlogged`, as before the hit existed)
/// must give the same results and errors and leave the same frames, zones, lists, bitmaps and
/// operation log.
@Suite("Per-CPU cache hit")
struct PerCPUFastPathTests {
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func theHitLeavesWhatTheGeneralPathLeaves(seed: UInt64) throws {
        let fast = try HostArena(), slow = try HostArena()
        var rng = SplitMix64(seed: seed)
        var live: [(PFN, Int)] = []
        var freed: [PFN] = []
        var hits = 0
        for step in 0..<4000 {
            let r = rng.next()
            if r % 41 == 0, let p = freed.last, !live.contains(where: { $0.0 == p }) {
                // misuse: a double free (often of a frame now on a per-CPU list)
                var e1: KmemError?, e2: KmemError?
                do { try fast.allocator.free(p, order: 0) } catch { e1 = error }
                do { try generalFree(slow.allocator, p, 0) } catch { e2 = error }
                #expect(e1 != nil && e1 == e2, "step \(step): \(String(describing: e1)) vs \(String(describing: e2))")
            } else if live.isEmpty || (r >> 8) % 100 < 55 {
                let order = (r >> 16) % 8 == 0 ? Int((r >> 20) % 4) : 0
                let request = AllocationRequest(order: order, migratetype: (r >> 24) & 1 == 0 ? .unmovable : .movable,
                                                zone: ZoneConstraint(rawValue: UInt8((r >> 28) % 3))!,
                                                alignment: (r >> 32) % 16 == 0 ? 2 : 1, owner: r >> 48)
                let seqBefore = fast.allocator.state.pointee.sequence
                let a = try fast.allocator.allocate(request)
                let b = try generalAllocate(slow.allocator, request)
                #expect(a == b, "step \(step): \(String(describing: a)) vs \(String(describing: b))")
                if a != b { return }
                if let a {
                    live.append((a, order))
                    if order == 0 && request.alignment == 1 && fast.allocator.state.pointee.sequence == seqBefore + 1 { hits += 1 }
                }
            } else {
                let (p, o) = live.remove(at: Int((r >> 8) % UInt64(live.count)))
                try fast.allocator.free(p, order: o)
                try generalFree(slow.allocator, p, o)
                if o == 0 { freed.append(p) }
            }
        }
        #expect(hits > 500, "the traffic exercised the hit (\(hits) hits)")
        try expectSameState(fast.allocator, slow.allocator)
        #expect(fast.check().passed, "\(fast.check().text)")
    }

    /// `allocate` through the general path only.
    func generalAllocate(_ pa: PageAllocator, _ request: AllocationRequest) throws(KmemError) -> PFN? {
        var args = PageAllocator.OpArguments()
        args.order = request.order
        args.migratetype = request.migratetype.rawValue
        args.zone = request.zone.rawValue
        args.flags = request.ignoreWatermarks ? 1 : 0
        args.alignment = request.alignment
        args.owner = request.owner
        return try pa.withZoneLocks(pa.zoneMask(upTo: request.zone.highestZone)) { (held: borrowing ZoneLocksHeld) throws(KmemError) -> PFN? in
            try pa.logged(.allocate, args, { (_) throws(KmemError) -> PFN? in try pa.allocateUnlogged(request, held) },
                          outcome: { $0 == nil ? (.failed, Kmem.none) : (.ok, $0!.raw) })
        }
    }

    /// `free` through the general path only.
    func generalFree(_ pa: PageAllocator, _ pfn: PFN, _ order: Int) throws(KmemError) {
        var args = PageAllocator.OpArguments()
        args.order = order
        args.address = pfn.raw
        try pa.withZoneLocks(pa.zoneMask(pfn, through: pfn)) { (held: borrowing ZoneLocksHeld) throws(KmemError) in
            try pa.logged(.free, args, { (_) throws(KmemError) in try pa.freeUnlogged(pfn, order: order, heap: false, held) },
                          outcome: { (.ok, 1) })
        }
    }

    /// Every word of the state that holds no host address: FrameMeta, zones, the operation
    /// log, and each segment's counters, lists, parity and allocation bitmaps.
    func expectSameState(_ a: PageAllocator, _ b: PageAllocator) throws {
        #expect(a.state.pointee.sequence == b.state.pointee.sequence)
        #expect(a.state.pointee.busy == 0 && b.state.pointee.busy == 0)
        #expect(a.frameCount == b.frameCount && a.segmentCount == b.segmentCount)
        /// The first byte at which `n` values from `p` and from `q` differ (nil: none), so a
        /// failure names a place instead of printing megabytes.
        func difference<T>(_ p: UnsafeMutablePointer<T>, _ q: UnsafeMutablePointer<T>, _ n: Int) -> Int? {
            let x = UnsafeRawBufferPointer(start: p, count: n * MemoryLayout<T>.stride)
            let y = UnsafeRawBufferPointer(start: q, count: n * MemoryLayout<T>.stride)
            return x.indices.first { x[$0] != y[$0] }
        }
        #expect(difference(a.meta(PFN(0)), b.meta(PFN(0)), Int(a.frameCount)) == nil, "FrameMeta (byte offset)")
        // the lock words aside: a hit takes no zone lock and one cache lock, the general path its
        // zones' locks and its CPU's cache lock in each (kernel/README.md "Per-CPU cache locks")
        for z in 0..<ZoneKind.count {
            #expect(!TicketLock(a.zoneLockWord(z)).isLocked && !TicketLock(b.zoneLockWord(z)).isLocked)
            a.zone(z).pointee.lock = TicketLockWord()
            b.zone(z).pointee.lock = TicketLockWord()
            for c in 0..<Kmem.maxCPUs {
                #expect(!TicketLock(a.perCPULockWord(a.perCPU(z, cpu: c))).isLocked)
                a.perCPU(z, cpu: c).pointee.lock = TicketLockWord()
                b.perCPU(z, cpu: c).pointee.lock = TicketLockWord()
            }
        }
        #expect(difference(a.zone(0), b.zone(0), ZoneKind.count) == nil, "zones (byte offset)")
        let logA = UnsafeMutablePointer<OpLogEntry>(bitPattern: UInt(a.state.pointee.opLog))!
        let logB = UnsafeMutablePointer<OpLogEntry>(bitPattern: UInt(b.state.pointee.opLog))!
        #expect(difference(logA, logB, Int(a.state.pointee.opLogCapacity)) == nil, "operation log (byte offset)")
        for i in 0..<a.segmentCount {
            let s = a.segment(i), t = b.segment(i)
            #expect(s.pointee.startPFN == t.pointee.startPFN && s.pointee.endPFN == t.pointee.endPFN)
            #expect(s.pointee.freePages == t.pointee.freePages && s.pointee.reservedPages == t.pointee.reservedPages)
            #expect(difference(a.freeListHead(s, 0), b.freeListHead(t, 0), Kmem.freeListCount) == nil, "segment \(i) heads")
            for k in 0..<Kmem.freeListCount { #expect(s.pointee.freeCounts[k] == t.pointee.freeCounts[k]) }
            let pages = Int(s.pointee.pageCount)
            let wa = a.words(s.pointee.allocBitmap), wb = b.words(t.pointee.allocBitmap)
            #expect(difference(wa, wb, (pages + 63) / 64) == nil, "segment \(i) allocation bitmap")
            for k in 0...Kmem.maxOrder {
                let n = Int((Segment.parityBits(start: s.pointee.start, end: s.pointee.end, order: k) + 63) / 64)
                #expect(difference(a.words(s.pointee.parityBitmaps[k]), b.words(t.pointee.parityBitmaps[k]), n) == nil,
                        "segment \(i) parity order \(k)")
            }
        }
    }
}

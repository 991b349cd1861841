/// A block of pages the workload holds.
struct LivePage {
    var pfn: PFN
    var order: Int
    /// Frames, for a block from `allocateCount` (0: a whole block of `order`).
    var count: UInt64 = 0
    /// References taken with `get` beyond the first.
    var extraRefs: UInt32 = 0

    /// Frames held.
    var frames: UInt64 { count != 0 ? count : 1 << UInt64(order) }
}

/// A range the workload reserved.
struct Reservation {
    var start: PFN
    var count: UInt64
}

/// What the workload holds. A class, so the Swift runtime allocates it (and its arrays grow
/// through `posix_memalign`) from the kernel's own slab heap.
final class LiveSet {
    var pages: [LivePage] = []
    var objects: [UInt64] = []
    var reservations: [Reservation] = []
    var pagesHeld: UInt64 = 0
    /// Most page blocks and heap objects held at once: the arrays are allocated up front at
    /// these capacities, so the workload's own bookkeeping never needs memory mid-run
    /// (a grown array needs a contiguous block that fragmented memory may no longer have).
    let pageCapacity: Int
    let objectCapacity: Int
    /// Most reservations held at once: 1,024 for the whole run, shared by the CPUs (computed,
    /// not stored: the object's size is a heap allocation the one-CPU log must keep).
    var reservationCapacity: Int { pageCapacity / 16 }

    init(pageCapacity: Int, objectCapacity: Int) {
        self.pageCapacity = pageCapacity
        self.objectCapacity = objectCapacity
        pages.reserveCapacity(pageCapacity)
        objects.reserveCapacity(objectCapacity)
        reservations.reserveCapacity(reservationCapacity)
    }

    /// Removes and returns element `i` by swapping the last one in (order does not matter).
    func takePage(_ i: Int) -> LivePage {
        let p = pages[i]
        pages[i] = pages[pages.count - 1]
        pages.removeLast()
        pagesHeld &-= p.frames
        return p
    }

    func takeObject(_ i: Int) -> UInt64 {
        let o = objects[i]
        objects[i] = objects[objects.count - 1]
        objects.removeLast()
        return o
    }
}

/// One CPU's share of the deterministic workload (kernel/README.md "Workload"): its own
/// SplitMix64 stream and live set. It mixes orders 0…11 (skewed to small), both migratetypes,
/// zone-constrained and over-aligned requests, specific-frame allocations, a few range
/// reservations, heap allocations of every size class and large ones, and frees in random
/// order, keeping a live set so memory ends fragmented. The run it belongs to (`WorkloadRun`)
/// counts operations, phases, checkpoints and the fault; `Turns` orders the CPUs.
struct Workload {
    let allocator: PageAllocator
    var rng: SplitMix64
    /// The CPU this share runs on, and the CPUs taking turns.
    let cpu: Int
    let cpus: Int
    let live: LiveSet
    /// Pages this CPU tries to keep at most (a third of managed memory, shared by the CPUs).
    let pageBudget: UInt64
    /// The run, for the other CPUs' live sets (frees of blocks allocated on another CPU).
    let run: UnsafeMutablePointer<WorkloadRun>
    /// Whether frees may take from another CPU's live set: with turns only (running free, a
    /// CPU touches its own live set alone: the live sets have no lock).
    let crossFrees: Bool

    /// CPU `cpu`'s seed: the run's seed on CPU 0 (so one CPU runs the workload it always ran),
    /// a different stream on every other CPU.
    static func seed(_ seed: UInt64, cpu: Int) -> UInt64 {
        cpu == 0 ? seed : seed ^ (UInt64(cpu) &* 0xD1B5_4A32_D192_ED03)
    }

    init(allocator: PageAllocator, run: UnsafeMutablePointer<WorkloadRun>, cpu: Int) {
        self.allocator = allocator
        self.run = run
        self.cpu = cpu
        let n = max(run.pointee.cpus, 1)
        cpus = n
        crossFrees = n > 1 && !Turns.free
        rng = SplitMix64(seed: Workload.seed(run.pointee.seed, cpu: cpu))
        var managed: UInt64 = 0
        for z in 0..<ZoneKind.count { managed &+= allocator.zone(z).pointee.managedPages }
        pageBudget = managed / 3 / UInt64(n)
        live = LiveSet(pageCapacity: 16384 / n, objectCapacity: Int(min(max(managed / 16, 256), 16384)) / n)
        reservationBudget = min(managed / 64, 2048) / UInt64(n)
    }

    /// Frames reserved so far, and the most the workload reserves (reservations are never
    /// given back, so they are bounded for runs of millions of operations).
    var reservedFrames: UInt64 = 0
    let reservationBudget: UInt64

    mutating func step() throws(KmemError) {
        let over = live.pagesHeld > pageBudget || live.pages.count >= live.pageCapacity
        let objectsFull = live.objects.count >= live.objectCapacity
        let dice = rng.below(100)
        switch dice {
        case 0..<32 where !over: try allocatePages()
        case 32..<38 where !over: try allocateSpecificFrame()
        case 38..<39 where !over && reservedFrames < reservationBudget: try reserveSomeFrames()
        case 39..<66 where !objectsFull: try heapAllocate()
        case 66..<84: try freeObject()
        case 84..<86: try shareSomePage()
        case 86..<87: try unreserveSomeFrames()
        default: try freePages()
        }
    }

    mutating func randomOrder() -> Int {
        var k = 0
        while k < Kmem.maxOrder && rng.below(2) == 0 { k += 1 }
        return k
    }

    mutating func allocatePages() throws(KmemError) {
        let order = randomOrder()
        let r = rng.below(10)
        let zone: ZoneConstraint = r < 7 ? .any : (r < 9 ? .dma32 : .dma)
        let mt: Migratetype = rng.below(2) == 0 ? .unmovable : .movable
        let alignment: UInt64 = rng.below(10) == 0 ? 1 << UInt64(order + 1 + Int(rng.below(3))) : 1
        let owner = 0x574B_0000 | rng.below(0x10000)
        if rng.below(7) == 0 {
            // count-based: between half and all of the block's frames
            let count = min((1 &+ rng.below(1 << UInt64(order + 1))), 1 << UInt64(Kmem.maxOrder))
            if let pfn = try allocator.allocateCount(count, migratetype: mt, zone: zone, alignment: alignment, owner: owner) {
                live.pages.append(LivePage(pfn: pfn, order: order, count: count))
                live.pagesHeld &+= count
            }
            return
        }
        if let pfn = try allocator.allocate(AllocationRequest(order: order, migratetype: mt, zone: zone, alignment: alignment, owner: owner)) {
            live.pages.append(LivePage(pfn: pfn, order: order))
            live.pagesHeld &+= 1 << UInt64(order)
        }
    }

    mutating func randomManagedFrame() -> PFN {
        let seg = allocator.segment(Int(rng.below(UInt64(allocator.segmentCount)))).pointee
        return seg.start &+ rng.below(seg.pageCount)
    }

    mutating func allocateSpecificFrame() throws(KmemError) {
        let pfn = randomManagedFrame()
        if try allocator.allocateFrame(pfn, migratetype: rng.below(2) == 0 ? .unmovable : .movable, owner: 0x5350_4543) {
            live.pages.append(LivePage(pfn: pfn, order: 0))
            live.pagesHeld &+= 1
        }
    }

    mutating func reserveSomeFrames() throws(KmemError) {
        let pfn = randomManagedFrame()
        let n = 1 &+ rng.below(4)
        guard let s = allocator.segmentIndex(containing: pfn) else { return }
        let seg = allocator.segment(s).pointee
        guard pfn &+ n <= seg.end else { return }
        guard live.reservations.count < live.reservationCapacity else { return }
        if try allocator.reserveRange(start: pfn, count: n, owner: 0x5245_5356) {
            reservedFrames &+= n
            live.reservations.append(Reservation(start: pfn, count: n))
        }
    }

    /// Gives one reservation back.
    mutating func unreserveSomeFrames() throws(KmemError) {
        guard !live.reservations.isEmpty else { return }
        let i = Int(rng.below(UInt64(live.reservations.count)))
        let r = live.reservations[i]
        live.reservations[i] = live.reservations[live.reservations.count - 1]
        live.reservations.removeLast()
        try allocator.unreserve(start: r.start, count: r.count)
        reservedFrames &-= r.count
    }

    /// Takes another reference on a live block (it is then freed by as many puts).
    mutating func shareSomePage() throws(KmemError) {
        guard !live.pages.isEmpty else { return }
        let i = Int(rng.below(UInt64(live.pages.count)))
        guard live.pages[i].count == 0 else { return }
        try allocator.get(live.pages[i].pfn)
        live.pages[i].extraRefs &+= 1
    }

    mutating func heapAllocate() throws(KmemError) {
        let r = rng.below(100)
        let size: UInt64
        if r < 88 {
            let cls = rng.below(8)  // every size class
            size = 1 &+ rng.below(16 << cls)
        } else {
            size = 2049 &+ rng.below(64 * 1024)
        }
        let address = try allocator.kmalloc(size: size, alignment: 16)
        if address != 0 { live.objects.append(address) }
    }

    /// The live set a free takes from: this CPU's, or with several CPUs one time in four
    /// another CPU's (one that has started), so blocks allocated on one CPU are freed on
    /// another and land in this CPU's per-CPU cache. One CPU has no choice to make and draws
    /// nothing, so its stream is the one it always was.
    mutating func freeSource() -> LiveSet {
        guard crossFrees, rng.below(4) == 0 else { return live }
        let other = (cpu &+ 1 &+ Int(rng.below(UInt64(cpus &- 1)))) % cpus
        return run.pointee.liveSet(other) ?? live
    }

    mutating func freeObject() throws(KmemError) {
        let live = freeSource()
        guard !live.objects.isEmpty else { return }
        let o = live.takeObject(Int(rng.below(UInt64(live.objects.count))))
        try allocator.kfree(o)
    }

    mutating func freePages() throws(KmemError) {
        let live = freeSource()
        guard !live.pages.isEmpty else { return }
        let i = Int(rng.below(UInt64(live.pages.count)))
        if live.pages[i].extraRefs != 0 {
            try allocator.put(live.pages[i].pfn)
            live.pages[i].extraRefs &-= 1
            return
        }
        let p = live.takePage(i)
        if p.count != 0 {
            try allocator.freeCount(p.pfn, count: p.count)
        } else if rng.below(4) == 0 {
            try allocator.put(p.pfn)   // the last reference frees the block
        } else {
            try allocator.free(p.pfn, order: p.order)
        }
    }
}

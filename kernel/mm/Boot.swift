/// Boot: from the memory map to a running buddy allocator.
///
/// 1. Usable RAM (e820 type 1, page-aligned, below `limitPFN`) minus reservations (the
///    first MiB, the kernel image, the caller's ranges), split at the zone limits, gives
///    the candidate segments.
/// 2. The allocator's own memory (state, zones, segments, the FrameMeta array, bitmaps,
///    tags) is sized from those candidates (an upper bound) and carved top-down from the
///    highest candidate that fits, in Normal when it can (as memblock); the bump allocator's
///    slack goes back to the segment below the carve.
/// 3. The boot allocator hands it out; every frame's metadata is written; each segment is
///    given to the buddy lists as maximal aligned blocks, in movable pageblocks.
extension PageAllocator {
    /// Lays out and starts an allocator over `regions`. Bounded by the number of regions,
    /// reservations and `Kmem.segmentCapacity`.
    public static func boot(regions: UnsafeBufferPointer<MemoryRegion>,
                            reservations: UnsafeBufferPointer<PhysRange>,
                            config: BootConfig) throws(KmemError) -> PageAllocator {
        // Usable RAM, less what is held back for a later hot-add (the metadata still covers it).
        var usable = RangeList()
        var dropped = RangeList()  // RAM left unmanaged because the map has too many ranges
        let hs = (config.heldBack.start &+ Kmem.pageSize &- 1) >> Kmem.pageShift
        let he = config.heldBack.end >> Kmem.pageShift
        var frameCount: UInt64 = 0
        for r in regions where r.type == MemoryRegion.usable {
            let s = (r.base &+ Kmem.pageSize &- 1) >> Kmem.pageShift
            let e = min((r.base &+ r.length) >> Kmem.pageShift, config.limitPFN)
            guard s < e else { continue }
            frameCount = max(frameCount, e)
            if hs < he && s < he && hs < e {
                if s < hs { try usable.insertOrKeepLargest(s, hs, dropped: &dropped) }
                if he < e { try usable.insertOrKeepLargest(he, e, dropped: &dropped) }
            } else {
                try usable.insertOrKeepLargest(s, e, dropped: &dropped)
            }
        }
        guard usable.count > 0 else { throw .bootFailed(reason: "no usable RAM in the memory map") }

        var reserved = RangeList()
        try reserved.insertMerging(0, (config.lowReservedEnd &+ Kmem.pageSize &- 1) >> Kmem.pageShift)
        if config.kernel.end > config.kernel.start {
            try reserved.insertMerging(config.kernel.start >> Kmem.pageShift,
                                       (config.kernel.end &+ Kmem.pageSize &- 1) >> Kmem.pageShift)
        }
        for r in reservations where r.end > r.start {
            try reserved.insertMerging(r.start >> Kmem.pageShift, (r.end &+ Kmem.pageSize &- 1) >> Kmem.pageShift)
        }

        // Candidate segments: usable minus reserved, split at zone limits.
        var plan = RangeList()
        let limits = (config.dma32StartPFN, config.normalStartPFN)
        for i in 0..<usable.count {
            try usable.subtracting(index: i, reserved) { (s: UInt64, e: UInt64) throws(KmemError) in
                var a = s
                if a < limits.0 && limits.0 < e { plan.insertKeepingLargest(a, limits.0, dropped: &dropped); a = limits.0 }
                if a < limits.1 && limits.1 < e { plan.insertKeepingLargest(a, limits.1, dropped: &dropped); a = limits.1 }
                plan.insertKeepingLargest(a, e, dropped: &dropped)
            }
        }
        guard plan.count > 0 else { throw .bootFailed(reason: "no RAM left after boot reservations") }

        // Size the boot allocations from the candidates (carving only shrinks one).
        var bytes: UInt64 = 4096 * 4
        bytes &+= UInt64(MemoryLayout<KmemState>.stride) &+ 64
        bytes &+= UInt64(MemoryLayout<Zone>.stride * ZoneKind.count) &+ 64
        bytes &+= UInt64(MemoryLayout<Segment>.stride * Kmem.segmentCapacity) &+ 64
        bytes &+= frameCount &* UInt64(MemoryLayout<FrameMeta>.stride) &+ 4096
        bytes &+= UInt64(MemoryLayout<HeapState>.stride) &+ 64
        bytes &+= config.opLogCapacity &* UInt64(MemoryLayout<OpLogEntry>.stride) &+ 64
        if config.perCPUTable == 0 { bytes &+= UInt64(MemoryLayout<PerCPUPages>.stride * Kmem.maxCPUs * ZoneKind.count) &+ 64 }
        if config.cpuOperationTable == 0 { bytes &+= UInt64(MemoryLayout<CPUOperation>.stride * Kmem.maxCPUs) &+ 64 }
        for i in 0..<plan.count { bytes &+= bitmapBytes(plan.start(i), plan.end(i)) }
        let needPages = (bytes &+ Kmem.pageSize &- 1) >> Kmem.pageShift

        // Top-down, as memblock: the highest range that fits, in Normal when there is Normal.
        // When no range holds everything, the FrameMeta array (the bulk, one array in the direct
        // map) is carved alone, exactly its size, and the rest from another range.
        let metaBytes = frameCount &* UInt64(MemoryLayout<FrameMeta>.stride)
        let metaPages = (metaBytes &+ Kmem.pageSize &- 1) >> Kmem.pageShift
        var restPages = needPages
        var metaCarve: (start: UInt64, end: UInt64)? = nil
        if plan.chooseCarve(pages: needPages, below: .max, preferAbove: config.normalStartPFN) == nil {
            guard let m = plan.chooseCarve(pages: metaPages, below: .max, preferAbove: config.normalStartPFN) else {
                throw .bootFailed(reason: "no RAM range large enough for the allocator's metadata")
            }
            let e = plan.end(m)
            metaCarve = (e &- metaPages, e)
            plan.setEnd(m, e &- metaPages)
            plan.removeEmpty()
            restPages = needPages &- metaPages  // `bytes` counted the array: still an upper bound
        }
        guard let carve = plan.chooseCarve(pages: restPages, below: .max, preferAbove: config.normalStartPFN) else {
            throw .bootFailed(reason: "no RAM range large enough for the allocator's metadata")
        }
        let bootEnd = plan.end(carve)
        let plannedStart = bootEnd &- restPages
        plan.setEnd(carve, plannedStart)
        plan.removeEmpty()
        // A map of more usable ranges than the allocator has segments for still boots: the
        // smallest ranges stay unmanaged (RESERVED, owner `BootOwner.unmanaged`).
        plan.keepLargest(Kmem.segmentCapacity, dropped: &dropped)
        // The segment just below the carve, which gets the bump allocator's slack back.
        var below: Int? = nil
        for i in 0..<plan.count where plan.end(i) == plannedStart { below = i }

        // Hand out the boot allocations.
        let dm = config.directMapOffset
        var bump = BootAllocator(start: plannedStart << Kmem.pageShift, end: bootEnd << Kmem.pageShift)
        if metaCarve != nil {  // bitmaps and tags come from this carve: zero all of it first
            zero(dm &+ (plannedStart << Kmem.pageShift), restPages << Kmem.pageShift)
        }
        let statePhys = try bump.allocate(UInt64(MemoryLayout<KmemState>.stride), align: 64)
        let zonesPhys = try bump.allocate(UInt64(MemoryLayout<Zone>.stride * ZoneKind.count), align: 64)
        // Room for every segment the allocator can ever manage (hot-add inserts more).
        let segsPhys = try bump.allocate(UInt64(MemoryLayout<Segment>.stride * Kmem.segmentCapacity), align: 64)
        let heapPhys = try bump.allocate(UInt64(MemoryLayout<HeapState>.stride), align: 64)
        let logPhys = try bump.allocate(config.opLogCapacity &* UInt64(MemoryLayout<OpLogEntry>.stride), align: 64)
        // The per-CPU cache table: the caller's (the kernel's image `kmem_pcp`), else carved here.
        let pcpTable = config.perCPUTable != 0 ? config.perCPUTable
            : dm &+ (try bump.allocate(UInt64(MemoryLayout<PerCPUPages>.stride * Kmem.maxCPUs * ZoneKind.count), align: 64))
        // The in-operation table: the caller's (the kernel's image `kmem_cpu_ops`), else carved here.
        let opsTable = config.cpuOperationTable != 0 ? config.cpuOperationTable
            : dm &+ (try bump.allocate(UInt64(MemoryLayout<CPUOperation>.stride * Kmem.maxCPUs), align: 64))
        let metaPhys: UInt64
        if let mc = metaCarve {
            metaPhys = mc.start << Kmem.pageShift  // every record is written by initFrameMeta
        } else {
            metaPhys = try bump.allocate(metaBytes, align: 4096)
            zero(dm &+ metaPhys &+ metaBytes, (bootEnd << Kmem.pageShift) &- (metaPhys &+ metaBytes))
        }
        let bootStart = plannedStart  // until the slack is known

        let state = UnsafeMutablePointer<KmemState>(bitPattern: UInt(dm &+ statePhys))!
        state.pointee = KmemState(
            magic: Kmem.stateMagic, sequence: 0, directMapOffset: dm, frameMeta: dm &+ metaPhys,
            frameCount: frameCount, zones: dm &+ zonesPhys, segments: dm &+ segsPhys,
            segmentCount: UInt64(plan.count), dma32StartPFN: config.dma32StartPFN,
            normalStartPFN: config.normalStartPFN, bootMemStart: bootStart << Kmem.pageShift,
            bootMemEnd: bootEnd << Kmem.pageShift, options: config.poison ? 1 : 0,
            kernelStart: config.kernel.start, kernelEnd: config.kernel.end, opLog: dm &+ logPhys,
            opLogCapacity: config.opLogCapacity, parentSequence: 0, heap: dm &+ heapPhys, busy: 0,
            perCPUPages: pcpTable, cpuOperations: opsTable)
        if let ops = UnsafeMutablePointer<CPUOperation>(bitPattern: UInt(opsTable)) {
            for c in 0..<Kmem.maxCPUs { ops[c] = CPUOperation() }
        }
        let pa = PageAllocator(state: state)
        pa.initHeap()

        for i in 0..<plan.count {
            let seg = pa.segment(i)
            // The segment below the carve may grow up to the carve's end: size its bitmaps so.
            let s = plan.start(i), e = i == below ? bootEnd : plan.end(i)
            seg.pointee = Segment(
                startPFN: s, endPFN: e, zone: UInt32(pa.zoneIndex(of: PFN(s))), index: UInt32(i), freePages: 0,
                reservedPages: 0, freeHeads: .init(repeating: Kmem.none), freeCounts: .init(repeating: 0),
                parityBitmaps: .init(repeating: 0), allocBitmap: 0, pageblockTags: 0,
                firstPageblock: s >> UInt64(Kmem.pageblockOrder),
                pageblockCount: ((e &- 1) >> UInt64(Kmem.pageblockOrder)) &- (s >> UInt64(Kmem.pageblockOrder)) &+ 1)
            for k in 0...Kmem.maxOrder {
                let words = (Segment.parityBits(start: PFN(s), end: PFN(e), order: k) &+ 63) / 64
                seg.pointee.parityBitmaps[k] = dm &+ (try bump.allocate(words &* 8, align: 8))
            }
            seg.pointee.allocBitmap = dm &+ (try bump.allocate(((e &- s &+ 63) / 64) &* 8, align: 8))
            let tags = try bump.allocate((seg.pointee.pageblockCount &+ 7) & ~7, align: 8)
            seg.pointee.pageblockTags = dm &+ tags
        }
        if metaCarve == nil { zero(dm &+ bump.cursor, metaPhys &- bump.cursor) }
        // What the bump allocator did not use goes back to the segment below (DragonOS).
        let usedStart = bump.cursor >> Kmem.pageShift
        var finalStart = bootStart
        if let b = below {
            // Its bitmaps were sized for the whole carve; now its real end is known.
            finalStart = max(usedStart, bootStart)
            let seg = pa.segment(b)
            seg.pointee.endPFN = finalStart
            seg.pointee.pageblockCount = ((finalStart &- 1) >> UInt64(Kmem.pageblockOrder)) &- seg.pointee.firstPageblock &+ 1
        }
        state.pointee.bootMemStart = finalStart << Kmem.pageShift
        for i in 0..<plan.count {
            let seg = pa.segment(i)
            let tags = UnsafeMutablePointer<UInt8>(bitPattern: UInt(seg.pointee.pageblockTags))!
            for t in 0..<Int(seg.pointee.pageblockCount) { tags[t] = Migratetype.movable.rawValue }
        }

        let metaFrames = metaCarve.map { (PFN($0.start), PFN($0.end)) } ?? (PFN(finalStart), PFN(finalStart))
        pa.initFrameMeta(usable: usable, reserved: reserved, bootStart: finalStart, bootEnd: bootEnd,
                         metaFrames: metaFrames, config: config)
        for i in 0..<dropped.count {
            var p = PFN(dropped.start(i))
            let end = PFN(min(dropped.end(i), frameCount))
            while p < end {
                if pa.meta(p).pointee.state.contains(.reserved) { pa.meta(p).pointee.owner = BootOwner.unmanaged }
                p &+= 1
            }
        }
        // Held-back RAM: no state and no segment (as a hole), but its zone, so that
        // `addMemory` can tell RAM from a hole.
        for r in regions where r.type == MemoryRegion.usable && hs < he {
            var p = PFN(max((r.base &+ Kmem.pageSize &- 1) >> Kmem.pageShift, hs))
            let e = PFN(min(min((r.base &+ r.length) >> Kmem.pageShift, config.limitPFN), he))
            while p < e { pa.meta(p).pointee.zone = UInt8(pa.zoneIndex(of: p)); p &+= 1 }
        }
        pa.initZones(usable: usable)
        for i in 0..<plan.count { pa.releaseSegment(pa.segment(i)) }
        pa.computeWatermarks()
        return pa
    }

    /// Bytes of bitmaps and tags a segment `[s, e)` needs (each rounded up to 8 bytes).
    static func bitmapBytes(_ s: UInt64, _ e: UInt64) -> UInt64 {
        var b: UInt64 = 0
        for k in 0...Kmem.maxOrder { b &+= ((Segment.parityBits(start: PFN(s), end: PFN(e), order: k) &+ 63) / 64) &* 8 }
        b &+= ((e &- s &+ 63) / 64) &* 8
        let blocks = ((e &- 1) >> UInt64(Kmem.pageblockOrder)) &- (s >> UInt64(Kmem.pageblockOrder)) &+ 1
        return b &+ ((blocks &+ 7) & ~7) &+ 64
    }

    static func zero(_ address: UInt64, _ bytes: UInt64) {
        UnsafeMutableRawPointer(bitPattern: UInt(address))!.initializeMemory(as: UInt8.self, repeating: 0, count: Int(bytes))
    }

    /// Zone index of a PFN by the zone limits.
    public func zoneIndex(of pfn: PFN) -> Int {
        if pfn.raw >= state.pointee.normalStartPFN { return Int(ZoneKind.normal.rawValue) }
        if pfn.raw >= state.pointee.dma32StartPFN { return Int(ZoneKind.dma32.rawValue) }
        return Int(ZoneKind.dma.rawValue)
    }

    /// Writes every frame's metadata: holes empty, RAM reserved (with an owner tag) until
    /// its segment is released.
    func initFrameMeta(usable: RangeList, reserved: RangeList, bootStart: UInt64, bootEnd: UInt64,
                       metaFrames: (start: PFN, end: PFN), config: BootConfig) {
        var pfn = PFN(0)
        while pfn < frameEnd { meta(pfn).pointee = .empty; pfn &+= 1 }
        let kStart = PFN(config.kernel.start >> Kmem.pageShift)
        let kEnd = PFN((config.kernel.end &+ Kmem.pageSize &- 1) >> Kmem.pageShift)
        let lowEnd = PFN((config.lowReservedEnd &+ Kmem.pageSize &- 1) >> Kmem.pageShift)
        let bootStart = PFN(bootStart), bootEnd = PFN(bootEnd)
        for i in 0..<usable.count {
            var p = PFN(usable.start(i))
            let end = PFN(usable.end(i))  // once: a RangeList is 4 KiB, not to be read per frame
            while p < end {
                let m = meta(p)
                m.pointee.zone = UInt8(zoneIndex(of: p))
                var add: FrameFlags = []
                if p >= kStart && p < kEnd {
                    add = .kernel
                    m.pointee.owner = BootOwner.kernelImage
                } else if (p >= bootStart && p < bootEnd) || (p >= metaFrames.start && p < metaFrames.end) {
                    m.pointee.owner = BootOwner.bootMemory
                } else if p < lowEnd {
                    m.pointee.owner = BootOwner.firmware
                } else {
                    m.pointee.owner = BootOwner.bootInfo  // until `markUnmanaged` says otherwise
                }
                transition(m, .bootReserve, head: false, add: add, stamp: false)
                p &+= 1
            }
        }
    }

    /// Fills each zone's span and present/managed counts from the usable ranges and segments.
    func initZones(usable: RangeList) {
        for z in 0..<ZoneKind.count {
            zone(z).pointee = Zone(
                kind: UInt32(z), segmentCount: 0, firstSegment: 0, startPFN: 0, endPFN: 0, spannedPages: 0,
                presentPages: 0, managedPages: 0, bootReservedPages: 0, reservedPages: 0, freePages: 0,
                allocatedPages: 0, watermarkMin: 0, watermarkLow: 0, watermarkHigh: 0,
                lowmemReserve: .init(repeating: 0),
                lock: TicketLockWord())
            for c in 0..<Kmem.maxCPUs {
                perCPU(z, cpu: c).pointee = PerCPUPages(count: 0, high: 0, batch: 0, heads: .init(repeating: Kmem.none),
                                                        counts: .init(repeating: 0), tails: .init(repeating: Kmem.none), drainCursor: 0,
                                                        lock: TicketLockWord())
            }
        }
        let bounds: InlineArray<4, UInt64> = [0, state.pointee.dma32StartPFN, state.pointee.normalStartPFN, .max]
        for z in 0..<ZoneKind.count {
            let zp = zone(z)
            for i in 0..<usable.count {
                let s = max(usable.start(i), bounds[z]), e = min(usable.end(i), bounds[z + 1])
                guard s < e else { continue }
                if zp.pointee.presentPages == 0 { zp.pointee.startPFN = s }
                zp.pointee.endPFN = e
                zp.pointee.presentPages &+= e &- s
            }
            zp.pointee.spannedPages = zp.pointee.endPFN &- zp.pointee.startPFN
        }
        var i = 0
        while i < segmentCount {
            let seg = segment(i)
            let zp = zone(of: seg)
            if zp.pointee.segmentCount == 0 { zp.pointee.firstSegment = UInt64(i) }
            zp.pointee.segmentCount &+= 1
            zp.pointee.managedPages &+= seg.pointee.pageCount
            i += 1
        }
        for z in 0..<ZoneKind.count {
            let zp = zone(z)
            zp.pointee.bootReservedPages = zp.pointee.presentPages &- zp.pointee.managedPages
        }
    }

    /// Gives a segment's frames to the buddy lists as maximal aligned blocks (which never
    /// have a free buddy, so no merging is needed).
    func releaseSegment(_ seg: UnsafeMutablePointer<Segment>) {
        let s = seg.pointee.start, e = seg.pointee.end
        let poison = poisoning
        var p = s
        while p < e {
            let m = meta(p)
            if poison { fillPoison(p) }
            transition(m, .release, head: false, add: poison ? .poisonFill : [], stamp: false)
            m.pointee.owner = 0
            m.pointee.segment = UInt16(seg.pointee.index)
            p &+= 1
        }
        p = s
        while p < e {
            var k = Kmem.maxOrder
            while k > 0 && (!p.isAligned(order: k) || p &+ pages(k) > e) { k -= 1 }
            pushFree(seg, p, k, Int(Migratetype.movable.rawValue))
            p &+= pages(k)
        }
    }
}

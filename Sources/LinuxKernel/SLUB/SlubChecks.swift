import KernelLayouts

/// SLUB's heap checked object by object, as `validate_slab` / `check_slab` / `on_freelist`
/// (mm/slub.c) do with `slub_debug`: every partial slab of every node and every CPU's slab
/// belongs to its cache, is a slab page, has its free objects inside itself and on object
/// boundaries, none twice, and — when no CPU owns it — as many free as `objects − inuse` says.
/// Freelist pointers are decoded as CONFIG_SLAB_FREELIST_HARDENED stores them:
/// `ptr ^ s->random ^ swab(address of the pointer)` (`freelist_ptr_decode`).
public struct SlubChecker {
    public static let checks: [LinuxVerifier.Check] = [
        .init(name: "slub-slab-cache", source: "mm/slub.c check_slab / validate_slab: slab->slab_cache is the cache whose list holds the slab; the page is a slab page (PG_slab in 6.1, PGTY_slab in 6.12)"),
        .init(name: "slub-freelist", source: "mm/slub.c check_valid_pointer / on_freelist: every free object lies in its slab, on an object boundary (after the left red zone)"),
        .init(name: "slub-double-free", source: "mm/slub.c on_freelist / set_freepointer (CONFIG_SLAB_FREELIST_HARDENED's BUG_ON(object == fp)): an object is on its slab's freelist once"),
        .init(name: "slub-inuse", source: "mm/slub.c on_freelist: slab->inuse = slab->objects − free objects, for a slab no CPU owns"),
        .init(name: "slub-red-zone", source: "mm/slub.c check_object (\"Left Redzone\", \"Right Redzone\"): with SLAB_RED_ZONE, the red_left_pad bytes before an object and the bytes from object_size to inuse after it are SLUB_RED_INACTIVE 0xbb while it is free, SLUB_RED_ACTIVE 0xcc while it is in use"),
        .init(name: "slub-poison", source: "mm/slub.c check_object (\"Poison\", \"End Poison\"): with __OBJECT_POISON, a free object's object_size − 1 bytes are POISON_FREE 0x6b and its last byte POISON_END 0xa5"),
        .init(name: "slub-padding", source: "mm/slub.c slab_pad_check (\"Padding overwritten\") and check_pad_bytes (\"Object padding\"): with SLAB_POISON, the slab's bytes after its last object and each object's bytes after its metadata (free pointer, tracks) up to the next object are POISON_INUSE 0x5a"),
    ]

    public var linux: LinuxKernelTarget
    public var layout: SlubLayout
    public var state: LinuxBuddyState
    /// The most free objects one slab's freelist may hold before the walk stops.
    public var objectLimit = 1 << 16
    /// The most slabs one CPU's partial chain (`kmem_cache_cpu.partial` → `slab->next`) is
    /// walked for (the kernel keeps `s->cpu_partial_slabs`, at most a few dozen).
    public var cpuPartialLimit = 1 << 12
    /// The `slub_debug` flag bits (nil: unknown for this kernel; red zones and poison unchecked).
    public var debugFlags: SlubDebugFlags?
    /// The most bytes of one slab read for the red-zone, poison and padding checks.
    public static let slabByteLimit = 1 << 22
    /// `sizeof(struct track)` from BTF (the padding after `SLAB_STORE_USER`'s two tracks).
    public var trackSize: Int?
    /// Whether `struct kmem_cache` has KASAN's metadata (CONFIG_KASAN): its size is not read,
    /// so object padding is not checked then.
    public var hasKASAN = false

    public init(linux: LinuxKernelTarget, state: LinuxBuddyState) throws {
        self.linux = linux
        self.state = state
        layout = try SlubLayout(btf: linux.btf)
        debugFlags = SlubDebugFlags(btf: linux.btf, version: linux.kernelVersion())
        trackSize = try? linux.btf.size(ofStruct: "track")
        hasKASAN = (try? linux.btf.member("kasan_info", of: "kmem_cache")) != nil
    }

    /// One slab to check: its `struct slab`, the free list a CPU holds for it (its lockless
    /// freelist), and whether a CPU owns it (its `inuse` is then not comparable).
    struct Target {
        var slab: UInt64
        var cpuFreelist: UInt64?
        var ownedByCPU: Bool
        var what: String
    }

    /// Runs the checks over every cache of `slub`; the findings name cache, slab and object.
    public func check(_ slub: SlubState) throws -> (findings: [LinuxFreeBlockChecks.Finding], slabs: Int, notes: [String]) {
        var findings: [LinuxFreeBlockChecks.Finding] = []
        var slabs = 0
        var notes: [String] = []
        let cpuOffsets = linux.decoder.perCPUOffsets()
        if cpuOffsets.isEmpty { notes.append("SLUB: __per_cpu_offset or nr_cpu_ids not in the symbols: the CPUs' slabs are not checked") }
        if layout.cpuPartialOffset == nil || layout.slabNextOffset == nil {
            notes.append("SLUB: no kmem_cache_cpu.partial / slab.next in BTF (CONFIG_SLUB_CPU_PARTIAL off): no per-CPU partial slabs to check")
        }
        if debugFlags == nil {
            notes.append("SLUB: the slub_debug flag bits are not known for this kernel (no enum _slab_flag_bits in BTF, not 6.1): red zones and poison not checked")
        } else if debugFlags?.storeUser == nil || hasKASAN,
                  let poison = debugFlags?.poison, slub.caches.contains(where: { ((try? freelistKey($0).flags) ?? 0) & poison != 0 }) {
            notes.append("SLUB: \(hasKASAN ? "KASAN's metadata size is not read" : "SLAB_STORE_USER's bit is not known for this kernel"): objects' padding not checked (the slabs' padding is)")
        }
        for cache in slub.caches {
            let key = try freelistKey(cache)
            let cpuSlab = try linux.memory.readU64(at: cache.address &+ UInt64(layout.cacheCPUSlabOffset))
            var targets = cache.partialSlabAddresses.map { Target(slab: $0, cpuFreelist: nil, ownedByCPU: false, what: "partial slab") }
                + cache.fullSlabAddresses.map { Target(slab: $0, cpuFreelist: nil, ownedByCPU: false, what: "full slab") }
            for (cpu, offset) in cpuOffsets.enumerated() {
                let c = try linux.memory.read(at: cpuSlab &+ offset, count: max(layout.cpuFreelistOffset, layout.cpuSlabOffset, layout.cpuPartialOffset ?? 0) + 8)
                let slab = loadU64(c, layout.cpuSlabOffset)
                if slab != 0 {
                    targets.append(Target(slab: slab, cpuFreelist: loadU64(c, layout.cpuFreelistOffset), ownedByCPU: true, what: "cpu \(cpu)'s slab"))
                }
                // the CPU's partial slabs (frozen in 6.1, so their inuse is not compared; not
                // frozen from 6.8, and then it is): a chain through slab->next, bounded
                guard let partialOffset = layout.cpuPartialOffset, let nextOffset = layout.slabNextOffset else { continue }
                var next = loadU64(c, partialOffset)
                var seen: Set<UInt64> = []
                var index = 0
                while next != 0 {
                    guard seen.insert(next).inserted, seen.count <= cpuPartialLimit else {
                        findings.append(.init(check: "slub-freelist", zone: "-", pfn: 0,
                                              detail: "cache \(cache.name) cpu \(cpu)'s partial slab chain: \(seen.count > cpuPartialLimit ? "longer than \(cpuPartialLimit) slabs" : "slab 0x\(String(next, radix: 16)) comes back (a cycle)")"))
                        break
                    }
                    targets.append(Target(slab: next, cpuFreelist: nil, ownedByCPU: false, what: "cpu \(cpu)'s partial slab \(index)"))
                    index += 1
                    guard let link = try? linux.memory.readU64(at: next &+ UInt64(nextOffset)) else {
                        findings.append(.init(check: "slub-freelist", zone: "-", pfn: 0,
                                              detail: "cache \(cache.name) cpu \(cpu)'s partial slab chain: slab 0x\(String(next, radix: 16)) cannot be read"))
                        break
                    }
                    next = link
                }
            }
            for target in targets {
                slabs += 1
                findings += try checkSlab(target, of: cache, key)
            }
        }
        return (findings, slabs, notes)
    }

    /// How a cache's free objects are linked: where in a free object its next pointer lies,
    /// the hardened freelist's key, and the left red zone before each object.
    public struct CacheKey: Sendable, Equatable {
        public var freeOffset: Int
        public var random: UInt64?
        public var redLeft: Int
        /// `s->flags`, `s->object_size` and `s->inuse` (the red-zone and poison checks).
        public var flags: UInt32 = 0
        public var objectSize: Int = 0
        public var inuse: Int = 0

        /// The next free object from the word stored at `address` (`freelist_ptr_decode`).
        public func decode(_ stored: UInt64, at address: UInt64) -> UInt64 {
            random.map { stored ^ $0 ^ address.byteSwapped } ?? stored
        }

        /// The word `set_freepointer` stores at `address` to link to `next` (its own inverse).
        public func encode(_ next: UInt64, at address: UInt64) -> UInt64 { decode(next, at: address) }
    }

    /// `cache`'s ``CacheKey``, read from its `struct kmem_cache`.
    public func freelistKey(_ cache: SlubCache) throws -> CacheKey {
        let bytes = try linux.memory.read(at: cache.address, count: max(layout.cacheFreeOffsetOffset, layout.cacheRandomOffset ?? 0,
                                                                     layout.cacheRedLeftPadOffset ?? 0, layout.cacheFlagsOffset,
                                                                     layout.cacheInuseOffset) + 8)
        return CacheKey(freeOffset: Int(loadU32(bytes, layout.cacheFreeOffsetOffset)),
                        random: layout.cacheRandomOffset.map { loadU64(bytes, $0) },
                        redLeft: layout.cacheRedLeftPadOffset.map { Int(loadU32(bytes, $0)) } ?? 0,
                        flags: loadU32(bytes, layout.cacheFlagsOffset), objectSize: Int(cache.objectSize),
                        inuse: Int(loadU32(bytes, layout.cacheInuseOffset)))
    }

    func checkSlab(_ target: Target, of cache: SlubCache, _ key: CacheKey) throws -> [LinuxFreeBlockChecks.Finding] {
        var findings: [LinuxFreeBlockChecks.Finding] = []
        let structPage = UInt64(linux.page.size), pageSize: UInt64 = 4096
        let (delta, under) = target.slab.subtractingReportingOverflow(state.vmemmapBase)
        guard !under, structPage > 0, delta % structPage == 0 else {
            return [finding("slub-slab-cache", cache, target, pfn: 0, "\(target.what) 0x\(String(target.slab, radix: 16)) is not a struct page of the vmemmap")]
        }
        let pfn = delta / structPage
        func add(_ check: String, _ detail: String) { findings.append(finding(check, cache, target, pfn: pfn, detail)) }
        let bytes = try linux.memory.read(at: target.slab, count: max(layout.slabCacheOffset, layout.slabFreelistOffset, layout.slabCountersOffset) + 8)
        let owner = loadU64(bytes, layout.slabCacheOffset)
        if owner != cache.address {
            add("slub-slab-cache", "slab_cache 0x\(String(owner, radix: 16)), the cache is at 0x\(String(cache.address, radix: 16))")
        }
        let page = try linux.page(pfn, vmemmapBase: state.vmemmapBase)
        if !page.flagNames(linux.page).contains("slab") && !page.pageTypes.contains("slab") {
            add("slub-slab-cache", "the page is not a slab page (flags [\(page.flagNames(linux.page).joined(separator: " "))], page_type 0x\(String(page.pageType, radix: 16)))")
        }
        let counters = loadU64(bytes, layout.slabCountersOffset)
        let inuse = Int(counters & 0xffff), objects = Int((counters >> 16) & 0x7fff), frozen = (counters >> 31) & 1 == 1
        let base = state.pageOffsetBase &+ pfn &* pageSize &+ UInt64(key.redLeft)
        let size = UInt64(cache.size)
        var seen: Set<UInt64> = []
        var free = 0
        for start in [loadU64(bytes, layout.slabFreelistOffset), target.cpuFreelist ?? 0] {
            var object = start
            while object != 0 {
                guard size > 0, object >= base, object &- base < UInt64(objects) &* size, (object &- base) % size == 0 else {
                    add("slub-freelist", "free object 0x\(String(object, radix: 16)) is not one of the slab's \(objects) objects of \(size) bytes from 0x\(String(base, radix: 16))")
                    break
                }
                guard seen.insert(object).inserted else {
                    add("slub-double-free", "object 0x\(String(object, radix: 16)) is on the freelist twice (freed twice)")
                    break
                }
                guard seen.count <= min(objects, objectLimit) else {
                    add("slub-freelist", "more than the slab's \(objects) objects on its freelist")
                    break
                }
                free += 1
                let pointerAddress = object &+ UInt64(key.freeOffset)
                object = key.decode(try linux.memory.readU64(at: pointerAddress), at: pointerAddress)
            }
        }
        if !target.ownedByCPU && !frozen && findings.isEmpty && objects - inuse != free {
            add("slub-inuse", "inuse \(inuse) of \(objects) objects, but \(free) are on the freelist")
        }
        if findings.isEmpty, let flags = debugFlags, key.flags & (flags.redZone | flags.objectPoison | flags.poison) != 0 {
            for (check, detail) in try debugBytes(slabStart: state.pageOffsetBase &+ pfn &* pageSize, objects: objects, size: Int(size),
                                                  free: seen, key: key, flags: flags) {
                add(check, detail)
            }
        }
        return findings
    }

    /// The red-zone, poison and padding bytes of every object of a slab whose freelists walked
    /// cleanly (so `free` is the set of free objects), as `check_object` checks them, and the
    /// slab's padding after its last object as `slab_pad_check` does; at most 8 findings per
    /// slab, each naming the object (or the slab's padding), whether it is free, the byte's
    /// address, its value and the value expected.
    func debugBytes(slabStart: UInt64, objects: Int, size: Int, free: Set<UInt64>, key: CacheKey,
                    flags: SlubDebugFlags) throws -> [(String, String)] {
        guard objects > 0, size > 0, objects <= Self.slabByteLimit / size else { return [] }
        let padded = key.flags & flags.poison != 0
        // slab_size(): PAGE_SIZE << the slab's order; order_objects() gave it (PAGE_SIZE << order) / size
        // objects, so the order is the one whose page count holds exactly `objects` of them
        let slabBytes = padded ? (0...10).lazy.map { 4096 << $0 }.first { $0 / size == objects } : nil
        let bytes = try linux.memory.read(at: slabStart, count: slabBytes ?? objects * size)
        var out: [(String, String)] = []
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        /// The first byte of `[from, from + count)` (offsets into the slab) that is not `value`.
        func scan(_ from: Int, _ count: Int, _ value: UInt8) -> Int? {
            guard count > 0, from >= 0, from + count <= bytes.count else { return nil }
            return (from..<(from + count)).first { bytes[$0] != value }
        }
        let redZone = key.flags & flags.redZone != 0, poison = key.flags & flags.objectPoison != 0
        // check_pad_bytes: the metadata ends at get_info_end() (inuse, plus the free pointer
        // when it lies outside the object, as SLAB_POISON places it), then two tracks with
        // SLAB_STORE_USER (and orig_size for kmalloc caches where the kernel has SLAB_KMALLOC);
        // the padding runs to size_from_object() (size less the left red zone with SLAB_RED_ZONE)
        var metadataEnd: Int? = key.freeOffset >= key.inuse ? key.inuse + 8 : key.inuse
        if key.flags & (flags.storeUser ?? 0) != 0 {
            let kmalloc = key.flags & (flags.kmalloc ?? 0) != 0
            let origSize = kmalloc ? flags.origSizeBytes : 0   // nil: not known, padding unchecked
            metadataEnd = trackSize.flatMap { track in origSize.flatMap { o in metadataEnd.map { $0 + 2 * track + o } } }
        }
        if flags.storeUser == nil || hasKASAN { metadataEnd = nil }   // not known: the object padding is not checked
        let fromObject = redZone ? size - key.redLeft : size
        if padded, let slabBytes, let bad = scan(objects * size, slabBytes - objects * size, SlubPoison.inuse) {
            out.append(("slub-padding", "the slab's padding after its last object (\(slabBytes - objects * size) bytes at \(hex(slabStart &+ UInt64(objects * size)))): byte at \(hex(slabStart &+ UInt64(bad))) is 0x\(String(bytes[bad], radix: 16)), not 0x\(String(SlubPoison.inuse, radix: 16))"))
        }
        for i in 0..<objects where out.count < 8 {
            let start = i * size + key.redLeft          // fixup_red_left: the object after its left red zone
            let object = slabStart &+ UInt64(start)
            let isFree = free.contains(object)
            let state = isFree ? "free" : "in use"
            if redZone {
                let expected = isFree ? SlubPoison.redInactive : SlubPoison.redActive
                for (what, from, count) in [("left red zone", start - key.redLeft, key.redLeft),
                                            ("right red zone", start + key.objectSize, key.inuse - key.objectSize)] {
                    if let bad = scan(from, count, expected) {
                        out.append(("slub-red-zone", "object \(hex(object)) (\(state)): its \(what) byte at \(hex(slabStart &+ UInt64(bad))) is 0x\(String(bytes[bad], radix: 16)), not 0x\(String(expected, radix: 16))"))
                    }
                }
            }
            if padded, let end = metadataEnd, end < fromObject, let bad = scan(start + end, fromObject - end, SlubPoison.inuse) {
                out.append(("slub-padding", "object \(hex(object)) (\(state)): its padding byte at \(hex(slabStart &+ UInt64(bad))) (object + \(bad - start)) is 0x\(String(bytes[bad], radix: 16)), not 0x\(String(SlubPoison.inuse, radix: 16))"))
            }
            if poison && isFree && key.objectSize > 0 {
                let bad = scan(start, key.objectSize - 1, SlubPoison.free)
                    ?? scan(start + key.objectSize - 1, 1, SlubPoison.end)
                if let bad {
                    let expected = bad == start + key.objectSize - 1 ? SlubPoison.end : SlubPoison.free
                    out.append(("slub-poison", "object \(hex(object)) (free): byte \(bad - start) at \(hex(slabStart &+ UInt64(bad))) is 0x\(String(bytes[bad], radix: 16)), not the poison 0x\(String(expected, radix: 16))"))
                }
            }
        }
        return out
    }

    func finding(_ check: String, _ cache: SlubCache, _ target: Target, pfn: UInt64, _ detail: String) -> LinuxFreeBlockChecks.Finding {
        let zone = state.zones.first { $0.isPopulated && pfn >= $0.startPFN && pfn - $0.startPFN < $0.spannedPages }?.name ?? "-"
        return .init(check: check, zone: zone, pfn: pfn,
                     detail: "cache \(cache.name) \(target.what) 0x\(String(target.slab, radix: 16)): \(detail)")
    }
}

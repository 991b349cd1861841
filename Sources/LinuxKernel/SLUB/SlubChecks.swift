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
    ]

    public var linux: LinuxKernelTarget
    public var layout: SlubLayout
    public var state: LinuxBuddyState
    /// The most free objects one slab's freelist may hold before the walk stops.
    public var objectLimit = 1 << 16

    public init(linux: LinuxKernelTarget, state: LinuxBuddyState) throws {
        self.linux = linux
        self.state = state
        layout = try SlubLayout(btf: linux.btf)
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
        for cache in slub.caches {
            let key = try freelistKey(cache)
            let cpuSlab = try linux.memory.readU64(at: cache.address &+ UInt64(layout.cacheCPUSlabOffset))
            var targets = cache.partialSlabAddresses.map { Target(slab: $0, cpuFreelist: nil, ownedByCPU: false, what: "partial slab") }
            for (cpu, offset) in cpuOffsets.enumerated() {
                let c = try linux.memory.read(at: cpuSlab &+ offset, count: max(layout.cpuFreelistOffset, layout.cpuSlabOffset) + 8)
                let slab = loadU64(c, layout.cpuSlabOffset)
                guard slab != 0 else { continue }
                targets.append(Target(slab: slab, cpuFreelist: loadU64(c, layout.cpuFreelistOffset), ownedByCPU: true, what: "cpu \(cpu)'s slab"))
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
                                                                     layout.cacheRedLeftPadOffset ?? 0) + 8)
        return CacheKey(freeOffset: Int(loadU32(bytes, layout.cacheFreeOffsetOffset)),
                        random: layout.cacheRandomOffset.map { loadU64(bytes, $0) },
                        redLeft: layout.cacheRedLeftPadOffset.map { Int(loadU32(bytes, $0)) } ?? 0)
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
        return findings
    }

    func finding(_ check: String, _ cache: SlubCache, _ target: Target, pfn: UInt64, _ detail: String) -> LinuxFreeBlockChecks.Finding {
        let zone = state.zones.first { $0.isPopulated && pfn >= $0.startPFN && pfn - $0.startPFN < $0.spannedPages }?.name ?? "-"
        return .init(check: check, zone: zone, pfn: pfn,
                     detail: "cache \(cache.name) \(target.what) 0x\(String(target.slab, radix: 16)): \(detail)")
    }
}

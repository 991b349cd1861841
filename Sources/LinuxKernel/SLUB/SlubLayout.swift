/// Where SLUB keeps what /proc/slabinfo and the heap checks read, from BTF: `struct
/// kmem_cache` (the cache list link, name, sizes, `oo`, `node[]`), `struct kmem_cache_node`
/// (partial list, slab and object counts) and `struct slab` (its list link and the `counters`
/// word). Bit layouts BTF keeps as bitfields are the C ABI's for this struct in 6.1 and 6.12
/// (mm/slab.h: `inuse:16, objects:15, frozen:1` in `counters`, low bits first; `oo` is
/// `order << 16 | objects`, mm/slub.c `OO_SHIFT` 16).
public struct SlubLayout: Sendable, Equatable {
    public var cacheListOffset: Int
    public var cacheNameOffset: Int
    public var cacheSizeOffset: Int
    public var cacheObjectSizeOffset: Int
    public var cacheOOOffset: Int
    public var cacheNodeOffset: Int
    /// `MAX_NUMNODES`: the entries of `kmem_cache.node[]`.
    public var nodeSlots: Int
    public var nodePartialCountOffset: Int
    public var nodePartialOffset: Int
    /// `nr_slabs` and `total_objects` (CONFIG_SLUB_DEBUG; Debian has it): nil without.
    public var nodeSlabCountOffset: Int?
    /// `kmem_cache_node.full` (CONFIG_SLUB_DEBUG): the full slabs, kept only for caches with
    /// `SLAB_STORE_USER` (`add_full`); nil when the kernel has no such list.
    public var nodeFullOffset: Int?
    public var nodeTotalObjectsOffset: Int?
    public var slabListOffset: Int
    public var slabCountersOffset: Int
    public var listNextOffset: Int
    public var listPrevOffset: Int
    /// Where a free object keeps its next-free pointer (`s->offset`), the hardened freelist's
    /// key (`s->random`, CONFIG_SLAB_FREELIST_HARDENED; nil without), the left red zone
    /// (`s->red_left_pad`, nil without SLUB_DEBUG) and the per-CPU slab pointer (`cpu_slab`).
    public var cacheFreeOffsetOffset: Int
    public var cacheRandomOffset: Int?
    public var cacheRedLeftPadOffset: Int?
    public var cacheCPUSlabOffset: Int
    /// `struct kmem_cache_cpu`: its lockless freelist and its slab.
    public var cpuFreelistOffset: Int
    public var cpuSlabOffset: Int
    /// `struct slab`: its cache and its freelist.
    public var slabCacheOffset: Int
    public var slabFreelistOffset: Int
    /// `s->flags` (`slab_flags_t`), `s->inuse` (the object and its right red zone / padding, where
    /// the free pointer of a debug cache begins): what the red-zone and poison checks read.
    public var cacheFlagsOffset: Int
    public var cacheInuseOffset: Int
    /// CONFIG_SLUB_CPU_PARTIAL: `kmem_cache_cpu.partial` (the CPU's partial slab chain) and
    /// `slab->next` (its link); nil without.
    public var cpuPartialOffset: Int?
    public var slabNextOffset: Int?

    public static let ooShift = 16

    /// Learns the layout from BTF.
    public init(btf: KernelTypes) throws(BTFError) {
        cacheListOffset = try btf.member("list", of: "kmem_cache").offset
        cacheNameOffset = try btf.member("name", of: "kmem_cache").offset
        cacheSizeOffset = try btf.member("size", of: "kmem_cache").offset
        cacheObjectSizeOffset = try btf.member("object_size", of: "kmem_cache").offset
        cacheOOOffset = try btf.member("oo", of: "kmem_cache").offset
        let node = try btf.arrayMember("node", of: "kmem_cache")
        guard node.elementSize == 8 else {
            throw .unexpectedShape(type: "kmem_cache", member: "node", expected: "an array of pointers")
        }
        cacheNodeOffset = node.offset
        nodeSlots = node.count
        nodePartialCountOffset = try btf.member("nr_partial", of: "kmem_cache_node").offset
        nodePartialOffset = try btf.member("partial", of: "kmem_cache_node").offset
        nodeSlabCountOffset = try? btf.member("nr_slabs", of: "kmem_cache_node").offset
        nodeFullOffset = try? btf.member("full", of: "kmem_cache_node").offset
        nodeTotalObjectsOffset = try? btf.member("total_objects", of: "kmem_cache_node").offset
        slabListOffset = try btf.member("slab_list", of: "slab").offset
        slabCountersOffset = try btf.member("counters", of: "slab").offset
        listNextOffset = try btf.member("next", of: "list_head").offset
        listPrevOffset = try btf.member("prev", of: "list_head").offset
        cacheFreeOffsetOffset = try btf.member("offset", of: "kmem_cache").offset
        cacheRandomOffset = try? btf.member("random", of: "kmem_cache").offset
        cacheRedLeftPadOffset = try? btf.member("red_left_pad", of: "kmem_cache").offset
        cacheCPUSlabOffset = try btf.member("cpu_slab", of: "kmem_cache").offset
        cpuFreelistOffset = try btf.member("freelist", of: "kmem_cache_cpu").offset
        cpuSlabOffset = try btf.member("slab", of: "kmem_cache_cpu").offset
        slabCacheOffset = try btf.member("slab_cache", of: "slab").offset
        slabFreelistOffset = try btf.member("freelist", of: "slab").offset
        cacheFlagsOffset = try btf.member("flags", of: "kmem_cache").offset
        cacheInuseOffset = try btf.member("inuse", of: "kmem_cache").offset
        cpuPartialOffset = try? btf.member("partial", of: "kmem_cache_cpu").offset
        slabNextOffset = try? btf.member("next", of: "slab").offset
    }
}

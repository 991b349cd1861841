/// Where Linux's page and slab allocators keep their lists in the middle of a change: the
/// functions that take `zone->lock`, `pcp->lock` or a SLUB list lock and edit free lists,
/// per-CPU lists, slab freelists or the counters beside them (and vmstat's fold of the per-CPU
/// counter deltas). A vCPU stopped with its RIP inside one of them is not at a settled point.
///
/// The ranges come from the symbols: each function runs from its address to the next symbol's
/// (a full System.map or vmlinux gives the exact end; `scripts/linux-guest.sh` prints each of
/// these kallsyms lines with the line after it), at most ``maximumLength`` bytes. Names the
/// kernel lacks or inlined are simply absent; compiler clones (`.constprop.0`, `.part.0`,
/// `.isra.0`, `.cold`) count as the function they were cloned from.
public struct AllocatorText: Sendable {
    /// The functions, by their source names (6.1 and 6.12), page allocator then SLUB then vmstat.
    /// `scripts/linux-guest.sh` greps the same names out of the guest's /proc/kallsyms.
    public static let functionNames: [String] = [
        // mm/page_alloc.c
        "__rmqueue_pcplist", "rmqueue_bulk", "rmqueue", "rmqueue_buddy", "__rmqueue_smallest", "__rmqueue",
        "__rmqueue_fallback", "__free_one_page", "free_one_page", "free_pcppages_bulk", "free_unref_page",
        "free_unref_page_list", "free_unref_page_commit", "free_unref_folios", "free_frozen_page_commit",
        "free_frozen_pages", "move_freepages", "move_freepages_block", "__move_freepages_block",
        "steal_suitable_fallback", "try_to_claim_block", "get_page_from_freelist", "__alloc_pages_bulk",
        "alloc_pages_bulk_noprof", "drain_pages_zone", "drain_zone_pages", "__isolate_free_page",
        "__putback_isolated_page", "split_free_page", "__free_pages_ok", "expand", "__del_page_from_free_list",
        "del_page_from_free_list",
        // mm/slub.c
        "___slab_alloc", "__slab_alloc", "__slab_free", "deactivate_slab", "get_partial_node", "put_cpu_partial",
        "__put_partials", "__unfreeze_partials", "unfreeze_partials", "discard_slab", "free_slab", "__free_slab",
        "allocate_slab", "new_slab", "add_partial", "remove_partial", "free_to_partial_list", "kmem_cache_alloc",
        "kmem_cache_alloc_lru", "kmem_cache_alloc_node", "kmem_cache_free", "kmem_cache_free_bulk",
        "kmem_cache_alloc_bulk", "kfree", "__kmalloc", "__kmalloc_node", "kmalloc_trace", "__kmem_cache_alloc_node",
        "__kmem_cache_free", "slab_alloc_node", "slab_free",
        // mm/vmstat.c: between taking a CPU's delta and adding it, vm_stat + Σ deltas is off
        "refresh_cpu_vm_stats", "fold_diff", "cpu_vm_stats_fold", "drain_zonestat", "__mod_zone_page_state",
        "mod_zone_page_state", "__mod_zone_freepage_state",
    ]

    /// The longest a function's range may be when the next symbol is far (or absent).
    public static let maximumLength: UInt64 = 64 * 1024

    /// One function's code, `[start, end)`.
    public struct Function: Sendable, Equatable {
        public var name: String
        public var start: UInt64
        public var end: UInt64
    }

    /// The functions found in the symbols, by address.
    public let functions: [Function]

    /// Finds the functions in `symbols` (already moved by the KASLR offset).
    public init(symbols: SymbolMap) {
        let wanted = Set(Self.functionNames)
        let code = symbols.symbols.filter { $0.module == nil }.sorted { $0.address < $1.address }
        var found: [Function] = []
        for (i, symbol) in code.enumerated() where wanted.contains(Self.sourceName(symbol.name)) {
            let limit = symbol.address &+ Self.maximumLength
            var end = limit < symbol.address ? UInt64.max : limit
            if let next = code[(i + 1)...].first(where: { $0.address > symbol.address }) { end = min(end, next.address) }
            found.append(Function(name: symbol.name, start: symbol.address, end: end))
        }
        functions = found
    }

    /// The function whose code holds `address`, if any.
    public func function(containing address: UInt64) -> Function? {
        // few dozen ranges: a scan is as fast as a search and cannot go wrong on overlaps
        functions.first { address >= $0.start && address < $0.end }
    }

    /// A compiler clone's source name: `free_one_page.constprop.0` → `free_one_page`.
    static func sourceName(_ name: String) -> String {
        name.firstIndex(of: ".").map { String(name[..<$0]) } ?? name
    }
}

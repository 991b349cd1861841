/// What each column of a view means, for `kmemscope help VIEW` (and the man page). One
/// place, so the views' command files only point here.
enum ViewHelp {
    static let zones = """
        One line per zone: pfn [start, end) its span; spanned = end − start; present = pages with \
        RAM; managed = present − boot-reserved, the pages the allocator owns; boot-reserved = taken \
        at boot (first MiB, kernel image, boot allocations, the FrameMeta array); reserved = reserved \
        since (reserve); free = pages on the free lists; pcp = pages in the per-CPU caches, every CPU's; allocated = \
        handed out (free + pcp + allocated + reserved = managed); min, low, high = watermarks in \
        pages; segments = the zone's contiguous runs. Then /proc/buddyinfo (see `help buddyinfo`).

        --tree: each zone (span, managed, free), its segments (PFN range, pages, free, reserved) and \
        for each order with free blocks the blocks on each migratetype's list, as the segment's \
        counters say (verify checks them against the lists), and the pages they hold. With \
        --kernel linux (no segments): each zone's orders, the blocks walked on each migratetype's list.

        --kernel linux: start pfn, spanned, present, managed as Linux's struct zone has them; free = \
        vm_stat[NR_FREE_PAGES]; on lists = Σ nr_free × 2^order; per-CPU = pages on the CPUs' \
        per_cpu_pages lists; min, low, high = _watermark[]. Zones with no present pages show "-".
        """

    static let buddyinfo = """
        Each line: Node 0, zone NAME, then one column per order 0…MAX_ORDER (11 here, inclusive: 12 \
        columns; 0…10 on Linux 6.1): the free blocks of that order in the zone, counted by walking the \
        free lists (a block of order k is 2^k pages). With --kernel linux, the symbol map is System.map \
        (from the -dbg package) or a copy of the guest's /proc/kallsyms (boot with nokaslr, or take it \
        from the running guest); it must name node_data, page_offset_base, vmemmap_base, __start_BTF \
        and __stop_BTF. Struct layouts come from the BTF in guest memory.
        """

    static let pagetypeinfo = """
        Free table: Node, zone, type (migratetype), then for each order 0…MAX_ORDER the free blocks \
        on that migratetype's list, counted by walking it. Block table: per zone, the pageblocks \
        (2^pageblock order pages) tagged with each migratetype. With --kernel linux: the pageblock \
        order and the free table (no block table yet), with Linux's migratetypes (Unmovable, Movable, Reclaimable, HighAtomic, Isolate), each \
        count capped at 100000 as Linux caps it.
        """

    static let zoneinfo = """
        Per zone: pages free (on the free lists); boost (0: no watermark boosting); min, low, high \
        watermarks; spanned, present, managed pages; cma (0); protection: the lowmem reserve this \
        zone keeps against allocations that could have used each zone (DMA, DMA32, Normal); \
        nr_free_pages (= pages free); pagesets: per CPU, count = pages in its per-CPU cache, high = \
        the cache's high mark (above it, it drains), batch = pages moved per refill or drain; \
        node_unreclaimable (0); start_pfn = the zone's first PFN.

        --kernel linux: every node, laid out as the guest's own /proc/zoneinfo: the node's counters \
        (per-node stats) with its first populated zone, every zone counter and NUMA event by the \
        guest's vmstat_text names, min/low/high (and promo from 6.10) with the boost, cma_pages, \
        lowmem_reserve, each CPU's count/high/batch and vm stats threshold; nothing past protection \
        for a zone with no present pages. Needs vmstat_text in the symbols.
        """

    static let frame = """
        Per frame: pfn, physical address, the block it heads or lies inside ([first, end) PFNs) or \
        its state, zone and segment; flags (hex, then by name), order, migratetype (0 Unmovable, 1 \
        Movable), refcount, owner tag, next and prev (free-list links, PFNs; none); then the \
        operation that last changed it (FrameMeta.lastSeq) as `log` prints it, or "not changed since \
        boot", or that the log ring no longer holds it.

        --kernel linux: pfn, the struct page's address and zone; flags by the kernel's enum \
        pageflags names and the section/node/zone bits above them; _refcount; _mapcount, or \
        page_type and its types (buddy, offline, table, guard); private (a free block's order); \
        whether it heads a free block (PageBuddy, and on which list) or lies inside one.
        """

    static let freelist = """
        Per list (segment × migratetype of that zone and order): the blocks the walk found and the \
        kernel's own count, then the head PFN of each block in list order, eight a line. Where a walk \
        breaks (a link out of the segment, a cycle, more blocks than pages) the line says where and \
        why, and the exit status is 1.
        """

    static let kmem = """
        Output: the address, its space (direct map, kernel image, physical) and physical address; \
        the block's state (free, allocated, reserved, per-cpu, quarantined, inconsistent); the \
        frame as `frame` prints it; on a slab page the cache, object index, offset in the object \
        and whether it is in use or on the slab's free list; the operations from the log that \
        handed it out and freed it.
        """

    static let log = """
        Each line: seq N, the kind (allocate, free, allocate-frame, reserve, kmalloc, kfree, \
        drain-pcp, quarantine, get, put, allocate-count, free-count, unreserve, add-memory), its \
        arguments (order, migratetype, zone constraint, alignment, size, owner tag, pfn or \
        address), -> the result (a PFN, an address, claimed…), the status (ok, failed, misuse, \
        corrupt), and "(inside N)" when it ran inside operation N.
        """

    static let info = """
        Output: where kmem_info is and whether the guest's build-id matches the ELF; page size, \
        orders 0…MAX_ORDER (inclusive, the buddyinfo columns), pageblock order, direct-map base; \
        frames and the FrameMeta size, zones, segments, slab caches; the operation log's capacity \
        and the current sequence; on a kernel of several CPUs, each CPU's state and, read as found \
        (info does not settle), whether the CPUs take turns or run free, whose turn it is and which \
        CPUs are inside an allocator operation; whether the kernel's measured sizes and offsets \
        agree with DWARF (exit status 1 when they do not).
        """
}

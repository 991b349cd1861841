/// The sizes and member offsets of Linux's page allocator structures, learned from BTF; the
/// array counts give MAX_ORDER (free_area entries), the number of migratetypes (free_list
/// entries) and MAX_NR_ZONES (node_zones entries). Nothing here is assumed from a version.
public struct LinuxMMLayout: Sendable, Equatable {
    /// `sizeof(struct page)`: the stride of the vmemmap array.
    public var pageSize: Int
    /// Offset in struct page of the list_head the buddy allocator links free pages through.
    public var pageBuddyListOffset: Int
    /// That member's name: `buddy_list` (5.19 and later) or `lru` (older kernels).
    public var pageBuddyListName: String
    /// Offset in struct page of `private`, where a free block's head records its order
    /// (`set_buddy_order`); nil if BTF has no such member.
    public var pagePrivateOffset: Int?
    /// Offset in struct page of `_mapcount`, the word that holds `page_type` (PageBuddy); nil
    /// if BTF has no such member.
    public var pageMapcountOffset: Int?
    /// `list_head.next` / `.prev`.
    public var listNextOffset: Int
    public var listPrevOffset: Int
    /// `sizeof(struct free_area)`, `free_area.free_list` (offset), `free_area.nr_free` (offset).
    public var freeAreaSize: Int
    public var freeListOffset: Int
    public var nrFreeOffset: Int
    /// `sizeof(struct list_head)`: the stride of free_list[].
    public var listHeadSize: Int
    /// Entries of `free_area.free_list[]`: MIGRATE_TYPES.
    public var migratetypeCount: Int
    /// `sizeof(struct zone)` and its members.
    public var zoneSize: Int
    public var zoneNameOffset: Int
    public var zoneFreeAreaOffset: Int
    /// Entries of `zone.free_area[]`: the number of orders (6.1's MAX_ORDER, 11).
    public var orderCount: Int
    public var zonePresentPagesOffset: Int
    public var zoneManagedPagesOffset: Int
    public var zoneStartPFNOffset: Int
    public var zoneSpannedPagesOffset: Int
    /// Offset in struct zone of `vm_stat[NR_FREE_PAGES]` (the zone's free-page counter, the
    /// "pages free" of /proc/zoneinfo); nil if BTF lacks `vm_stat` or the enumerator.
    public var zoneFreePagesCounterOffset: Int?
    /// Offset in struct zone of `per_cpu_pageset` (a per-CPU pointer to `struct per_cpu_pages`)
    /// and in that struct of `count` (pages on the CPU's lists); nil if BTF lacks them.
    public var zonePerCPUPagesetOffset: Int?
    /// Offset in struct zone of `per_cpu_zonestats` (a per-CPU pointer to `struct
    /// per_cpu_zonestat`), and in that struct of `vm_stat_diff[NR_FREE_PAGES]` (an `s8`): the
    /// change to the free-page counter a CPU has not folded into `vm_stat` yet
    /// (`__mod_zone_page_state`, mm/vmstat.c). nil when BTF lacks either.
    public var zonePerCPUZonestatsOffset: Int?
    public var zonestatFreePagesDiffOffset: Int?
    public var perCPUPagesCountOffset: Int?
    /// `pglist_data.node_zones[]`: offset, entries (MAX_NR_ZONES) and stride.
    public var nodeZonesOffset: Int
    public var zoneCount: Int
    public var nodeZoneStride: Int

    /// Learns the layout from BTF.
    /// - Throws: ``BTFError`` naming the type or member that is missing or has another shape.
    public init(btf: KernelTypes) throws(BTFError) {
        pageSize = try btf.size(ofStruct: "page")
        // 6.1 links free pages through page->buddy_list (a union member beside lru); older
        // kernels used page->lru.
        if let m = try? btf.member("buddy_list", of: "page") {
            pageBuddyListOffset = m.offset
            pageBuddyListName = "buddy_list"
        } else {
            pageBuddyListOffset = try btf.member("lru", of: "page").offset
            pageBuddyListName = "lru"
        }
        pagePrivateOffset = try? btf.member("private", of: "page").offset
        pageMapcountOffset = try? btf.member("_mapcount", of: "page").offset
        listNextOffset = try btf.member("next", of: "list_head").offset
        listPrevOffset = try btf.member("prev", of: "list_head").offset
        listHeadSize = try btf.size(ofStruct: "list_head")

        freeAreaSize = try btf.size(ofStruct: "free_area")
        let freeList = try btf.arrayMember("free_list", of: "free_area")
        guard freeList.elementSize == listHeadSize else {
            throw .unexpectedShape(type: "free_area", member: "free_list", expected: "an array of struct list_head")
        }
        freeListOffset = freeList.offset
        migratetypeCount = freeList.count
        nrFreeOffset = try btf.member("nr_free", of: "free_area").offset

        zoneSize = try btf.size(ofStruct: "zone")
        zoneNameOffset = try btf.member("name", of: "zone").offset
        let freeArea = try btf.arrayMember("free_area", of: "zone")
        guard freeArea.elementSize == freeAreaSize else {
            throw .unexpectedShape(type: "zone", member: "free_area", expected: "an array of struct free_area")
        }
        zoneFreeAreaOffset = freeArea.offset
        orderCount = freeArea.count
        zonePresentPagesOffset = try btf.member("present_pages", of: "zone").offset
        zoneManagedPagesOffset = try btf.member("managed_pages", of: "zone").offset
        zoneStartPFNOffset = try btf.member("zone_start_pfn", of: "zone").offset
        zoneSpannedPagesOffset = try btf.member("spanned_pages", of: "zone").offset

        if let stat = try? btf.arrayMember("vm_stat", of: "zone"),
           let index = try? btf.enumValue("NR_FREE_PAGES", in: "zone_stat_item"), index >= 0, index < stat.count {
            zoneFreePagesCounterOffset = stat.offset + Int(index) * stat.elementSize
        }

        zonePerCPUPagesetOffset = try? btf.member("per_cpu_pageset", of: "zone").offset
        perCPUPagesCountOffset = try? btf.member("count", of: "per_cpu_pages").offset
        zonePerCPUZonestatsOffset = try? btf.member("per_cpu_zonestats", of: "zone").offset
        if let diff = try? btf.arrayMember("vm_stat_diff", of: "per_cpu_zonestat"), diff.elementSize == 1,
           let index = try? btf.enumValue("NR_FREE_PAGES", in: "zone_stat_item"), index >= 0, index < diff.count {
            zonestatFreePagesDiffOffset = diff.offset + Int(index)
        }

        let zones = try btf.arrayMember("node_zones", of: "pglist_data")
        guard zones.elementSize == zoneSize else {
            throw .unexpectedShape(type: "pglist_data", member: "node_zones", expected: "an array of struct zone")
        }
        nodeZonesOffset = zones.offset
        zoneCount = zones.count
        nodeZoneStride = zones.elementSize
    }
}

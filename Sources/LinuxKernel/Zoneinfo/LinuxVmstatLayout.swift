/// Where /proc/zoneinfo's fields live beyond the free lists (mm/vmstat.c `zoneinfo_show_print`),
/// learned from BTF: the zone's and the node's counter arrays (their lengths are
/// `NR_VM_ZONE_STAT_ITEMS`, `NR_VM_NUMA_EVENT_ITEMS`, `NR_VM_NODE_STAT_ITEMS`), watermarks and
/// boost, `lowmem_reserve`, the per-CPU pageset and zonestat fields. A member BTF lacks is nil
/// and its line is left out (or the read refused where zoneinfo cannot do without it).
public struct LinuxVmstatLayout: Sendable, Equatable {
    /// An array member: offset, entries, element size.
    public struct Array: Sendable, Equatable {
        public var offset: Int
        public var count: Int
        public var elementSize: Int
    }

    public var zoneStat: Array
    public var zoneNumaEvent: Array?
    public var nodeStat: Array?
    public var watermark: Array
    public var watermarkBoostOffset: Int?
    public var lowmemReserve: Array
    public var cmaPagesOffset: Int?
    public var kswapdFailuresOffset: Int?
    /// `sizeof(struct per_cpu_pages)` and its `count`, `high`, `batch`, `high_min`, `high_max` (ints).
    public var pcpCountOffset: Int?
    public var pcpHighOffset: Int?
    public var pcpBatchOffset: Int?
    public var pcpHighMinOffset: Int?
    public var pcpHighMaxOffset: Int?
    /// `per_cpu_zonestat.stat_threshold` (s8) and `vm_numa_event[]` (unsigned long).
    public var zonestatThresholdOffset: Int?
    public var zonestatNumaEvent: Array?
    /// Indexes of `enum node_stat_item` that zoneinfo prints in huge pages
    /// (`vmstat_item_print_in_thp`, include/linux/vmstat.h: a function, so named here).
    public var nodeItemsInHugePages: Set<Int>

    /// The node items `vmstat_item_print_in_thp` names (6.1 and 6.12).
    public static let hugePageItems = ["NR_ANON_THPS", "NR_SHMEM_THPS", "NR_SHMEM_PMDMAPPED", "NR_FILE_THPS", "NR_FILE_PMDMAPPED"]
    /// `HPAGE_PMD_NR` on x86_64 (`1 << (PMD_SHIFT - PAGE_SHIFT)`, a macro).
    public static let pagesPerHugePage: UInt64 = 512
    /// `MAX_RECLAIM_RETRIES` (mm/internal.h, a macro; 16 in 6.1 and 6.12): a node whose
    /// `kswapd_failures` reached it is "node_unreclaimable".
    public static let maxReclaimRetries: UInt32 = 16

    /// Learns the layout.
    /// - Throws: ``BTFError`` when `zone.vm_stat`, `_watermark` or `lowmem_reserve` is missing.
    public init(btf: KernelTypes) throws(BTFError) {
        func array(_ name: String, of type: String) -> Array? {
            guard let a = try? btf.arrayMember(name, of: type) else { return nil }
            return Array(offset: a.offset, count: a.count, elementSize: a.elementSize)
        }
        func offset(_ name: String, of type: String) -> Int? { try? btf.member(name, of: type).offset }
        guard let stat = array("vm_stat", of: "zone"), stat.elementSize == 8 else {
            throw .unexpectedShape(type: "zone", member: "vm_stat", expected: "an array of atomic_long_t")
        }
        guard let marks = array("_watermark", of: "zone"), marks.elementSize == 8, marks.count >= 3 else {
            throw .unexpectedShape(type: "zone", member: "_watermark", expected: "an array of at least 3 unsigned long")
        }
        guard let reserve = array("lowmem_reserve", of: "zone"), reserve.elementSize == 8 else {
            throw .unexpectedShape(type: "zone", member: "lowmem_reserve", expected: "an array of long")
        }
        zoneStat = stat
        watermark = marks
        lowmemReserve = reserve
        zoneNumaEvent = array("vm_numa_event", of: "zone").flatMap { $0.elementSize == 8 ? $0 : nil }
        nodeStat = array("vm_stat", of: "pglist_data").flatMap { $0.elementSize == 8 ? $0 : nil }
        watermarkBoostOffset = offset("watermark_boost", of: "zone")
        cmaPagesOffset = offset("cma_pages", of: "zone")
        kswapdFailuresOffset = offset("kswapd_failures", of: "pglist_data")
        pcpCountOffset = offset("count", of: "per_cpu_pages")
        pcpHighOffset = offset("high", of: "per_cpu_pages")
        pcpBatchOffset = offset("batch", of: "per_cpu_pages")
        pcpHighMinOffset = offset("high_min", of: "per_cpu_pages")
        pcpHighMaxOffset = offset("high_max", of: "per_cpu_pages")
        zonestatThresholdOffset = offset("stat_threshold", of: "per_cpu_zonestat")
        zonestatNumaEvent = array("vm_numa_event", of: "per_cpu_zonestat").flatMap { $0.elementSize == 8 ? $0 : nil }
        var huge: Set<Int> = []
        for name in Self.hugePageItems {
            if let v = try? btf.enumValue(name, in: "node_stat_item"), v >= 0 { huge.insert(Int(v)) }
        }
        nodeItemsInHugePages = huge
    }
}

import AllocatorText

/// The /proc files Linux users and their scripts read — buddyinfo, pagetypeinfo, zoneinfo,
/// slabinfo — with Linux 6.1's layout, from a snapshot: the snapshot becomes an
/// `AllocatorView` (`KernelSnapshot.allocatorView`) and `AllocatorText.ProcText` renders it,
/// the same renderers every kernel's views use. Lists are counted by `FreeListCensus`.
///
/// Kept for the callers that hold a snapshot (zones, report, the tests); new code renders
/// the view. The next step of issue 20 moves these callers to the view and this enum away.
public enum ProcViews {
    /// Migratetype names as `migratetype_names[]` spells them.
    static let migratetypeNames = ["Unmovable", "Movable", "Reclaimable", "HighAtomic"]

    static func name(_ mt: Int) -> String { mt < migratetypeNames.count ? migratetypeNames[mt] : "Type\(mt)" }

    /// /proc/buddyinfo: `Node 0, zone %8s ` then `%6lu ` per order.
    public static func buddyinfo(_ s: KernelSnapshot, _ census: FreeListCensus) -> String {
        ProcText.buddyinfo(s.allocatorView(census))
    }

    /// /proc/pagetypeinfo: pageblock order, free blocks per migratetype and order, pageblocks
    /// per migratetype.
    public static func pagetypeinfo(_ s: KernelSnapshot, _ census: FreeListCensus) -> String {
        ProcText.pagetypeinfo(s.allocatorView(census))
    }

    /// /proc/zoneinfo, the fields this allocator has, in Linux's layout.
    public static func zoneinfo(_ s: KernelSnapshot) -> String {
        ProcText.zoneinfo(s.allocatorView(FreeListCensus(s)))
    }

    /// /proc/slabinfo, version 2.1.
    public static func slabinfo(_ s: KernelSnapshot) -> String {
        ProcText.slabinfo(s.allocatorView(FreeListCensus(s)))
    }
}

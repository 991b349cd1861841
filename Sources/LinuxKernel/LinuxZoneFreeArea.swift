/// One zone's buddy allocator as read from guest memory.
public struct LinuxZoneFreeArea: Sendable, Equatable {
    /// Index in `pglist_data.node_zones[]`.
    public var index: Int
    /// `zone->name` (`DMA`, `DMA32`, `Normal`, `Movable`, …).
    public var name: String
    public var startPFN: UInt64
    public var spannedPages: UInt64
    public var presentPages: UInt64
    public var managedPages: UInt64
    /// `vm_stat[NR_FREE_PAGES]`: the kernel's own count of free pages in the buddy lists
    /// (per-CPU lists excluded), signed as the kernel's atomic_long_t; nil if not learned.
    public var freePagesCounter: Int64?
    /// Pages on each CPU's per-CPU lists (`per_cpu_pageset->count`, CPU by CPU): free to the
    /// allocator but not on free_area's lists, nor in NR_FREE_PAGES. Empty if not read.
    public var perCPUCounts: [Int] = []
    /// Each CPU's not yet folded change to the free-page counter (`vm_stat_diff[NR_FREE_PAGES]`
    /// of `per_cpu_zonestats`): `freePagesCounter` + their sum is the exact count on a guest
    /// stopped between updates. Empty if not read.
    public var freePagesCounterDiffs: [Int] = []
    /// `free_area[order].nr_free`, per order: what /proc/buddyinfo prints.
    public var nrFree: [UInt64]
    /// Blocks found by walking `free_area[order].free_list[migratetype]`, as
    /// `walked[migratetype][order]`: what /proc/pagetypeinfo prints.
    public var walked: [[Int]]
    /// Every free block found, with its PFN.
    public var blocks: [LinuxFreeBlock]
    /// Lists that did not walk cleanly.
    public var issues: [LinuxFreeListIssue]
    /// Lists whose walk stopped at the decoder's own bound (``LinuxFreeAreaDecoder/listLimit``)
    /// while `nr_free` says there are more blocks: only their first blocks were read. Not a
    /// violation — a subset, which the verdict names (issue 22).
    public var cutShort: [LinuxFreeListIssue] = []

    /// /proc/buddyinfo only shows zones with present pages (`populated_zone`).
    public var isPopulated: Bool { presentPages != 0 }

    /// Free pages on the buddy lists, by nr_free: Σ nr_free[order] << order.
    public var freePages: UInt64 {
        nrFree.enumerated().reduce(0) { $0 &+ ($1.element << UInt64($1.offset)) }
    }
}

/// Node 0's buddy allocator: every zone, and the migratetype names the kernel uses.
public struct LinuxBuddyState: Sendable, Equatable {
    public var node: Int
    public var zones: [LinuxZoneFreeArea]
    /// `migratetype_names[]` as read from the guest (indexes free_list[]).
    public var migratetypeNames: [String]
    public var pageOffsetBase: UInt64
    public var vmemmapBase: UInt64
}

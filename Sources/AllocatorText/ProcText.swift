import AllocatorView

/// The /proc files Linux users and their scripts read — buddyinfo, pagetypeinfo, zoneinfo,
/// slabinfo — in Linux 6.1's layout (`mm/vmstat.c`, `mm/slab_common.c`), and `zones --tree`,
/// written once against an ``AllocatorView`` whichever kernel produced it. A field the
/// kernel does not keep (nil in the view) is left out, never printed as 0.
public enum ProcText {
    static func right(_ v: CustomStringConvertible, _ width: Int) -> String { ProcFormat.right(v, width) }
    static func left(_ v: String, _ width: Int) -> String { ProcFormat.left(v, width) }
}

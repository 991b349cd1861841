import BundledState

/// The order a replay applies a log window's operations in (kernel/README.md "Operation log",
/// "the order of a log"): each top-level operation together with the operations nested in it
/// (its group), the groups by the sequence of their last entry.
///
/// Why that order: on one CPU, or CPUs taking turns, a group's entries are consecutive and the
/// order is the sequence order. With CPUs running free (smp=free), another CPU's operations may
/// take sequence numbers between a `kmalloc`/`kfree` and the page operation nested in it. Every
/// operation takes its number under the locks of what it changes (its zones' locks, the heap
/// lock for `kmalloc`/`kfree`, held until its entry is written), so two operations that change
/// the same zone or the heap are ordered by their numbers, and a heap operation changes zones
/// only through its nested operations: applying each group at its last entry's number keeps
/// every pair that could see each other in the order they ran.
struct ReplayOrder {
    /// The window's entries with each group's consecutive (the log's own array when nothing
    /// came between), and the groups as ranges of it, in replay order.
    var entries: [OpLogRecord]
    var groups: [Range<Int>]
    /// The first sequence missing from the log before the window's end, and the last of the gap.
    var missing: (first: UInt64, last: UInt64)?

    /// `sorted`: the entries after `start` in sequence order (`Replay.inSequence`); `last`: the
    /// window's end.
    init(_ sorted: [OpLogRecord], after start: UInt64, through last: UInt64) {
        // the window: consecutive sequences from start + 1 through last
        var n = 0
        while n < sorted.count, sorted[n].sequence == start &+ 1 &+ UInt64(n), sorted[n].sequence <= last { n += 1 }
        let reached = start &+ UInt64(n)
        if reached < last {
            missing = (reached + 1, n < sorted.count ? min(sorted[n].sequence - 1, last) : last)
        }
        // each entry's group: its top-level ancestor (an entry whose parent is not in the window
        // is a group of its own, which the replay reports as unreadable)
        var root = [Int](repeating: 0, count: n)
        var consecutive = true
        for i in 0..<n {
            let parent = sorted[i].parent
            if parent > start && parent < sorted[i].sequence {
                root[i] = root[Int(parent - start - 1)]
                if root[i - 1] != root[i] { consecutive = false }
            } else {
                root[i] = i
            }
        }
        if consecutive {
            entries = sorted
            groups = []
            var i = 0
            while i < n {
                var j = i + 1
                while j < n && root[j] == root[i] { j += 1 }
                groups.append(i..<j)
                i = j
            }
            return
        }
        // interleaved: the members of each group, the groups by their last entry
        var members: [Int: [Int]] = [:]
        var last: [Int: UInt64] = [:]
        var roots: [Int] = []
        for i in 0..<n {
            if root[i] == i { roots.append(i) }
            members[root[i], default: []].append(i)
            last[root[i]] = sorted[i].sequence
        }
        roots.sort { (last[$0]!, $0) < (last[$1]!, $1) }
        entries = []
        entries.reserveCapacity(n)
        groups = []
        groups.reserveCapacity(roots.count)
        for r in roots {
            let from = entries.count
            for m in members[r]! { entries.append(sorted[m]) }
            groups.append(from..<entries.count)
        }
    }
}

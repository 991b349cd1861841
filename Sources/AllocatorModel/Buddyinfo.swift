/// /proc/buddyinfo from a snapshot: free blocks per zone and order, counted by walking the
/// free lists through the frame table. Each walk stops after the segment's page count (a
/// longer list has a cycle), so a corrupted snapshot cannot make it loop.
public enum Buddyinfo {
    /// Free blocks of each order (0…maxOrder) in zone `zone`, all migratetypes.
    public static func counts(_ s: KernelSnapshot, zone: Int) -> [UInt64] {
        var counts = [UInt64](repeating: 0, count: s.maxOrder + 1)
        for i in s.zones[zone].segmentIndices where i < s.segments.count {
            let seg = s.segments[i]
            for mt in 0..<s.migratetypeSlots {
                for k in 0...s.maxOrder {
                    let slot = mt * (s.maxOrder + 1) + k
                    guard slot < seg.freeHeads.count else { continue }
                    counts[k] += walk(s, from: seg.freeHeads[slot], bound: seg.pageCount)
                }
            }
        }
        return counts
    }

    /// Nodes reachable from `head` through `next`, at most `bound + 1`.
    public static func walk(_ s: KernelSnapshot, from head: UInt64, bound: UInt64) -> UInt64 {
        var n: UInt64 = 0
        var p = head
        while p != KernelSnapshot.none, n <= bound, let f = s.frames[p] {
            n += 1
            p = f.next
        }
        return n
    }

    /// The text, as the kernel and Linux print it: `Node 0, zone NAME` (right-aligned in 8)
    /// then `%6d` per order, for zones with managed pages.
    public static func text(_ s: KernelSnapshot) -> String {
        s.zones.filter { $0.managedPages > 0 }.map { z in
            let name = String(repeating: " ", count: max(0, 8 - z.name.count)) + z.name
            let cells = counts(s, zone: z.index).map { c -> String in
                let d = String(c)
                return " " + String(repeating: " ", count: max(0, 6 - d.count)) + d
            }
            return "Node 0, zone \(name)" + cells.joined()
        }.joined(separator: "\n")
    }
}

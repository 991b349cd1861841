/// A sorted list of PFN ranges `[start, end)` with fixed capacity and no heap, used while
/// planning the memory layout at boot.
struct RangeList {
    static let capacity = 256
    private var starts: InlineArray<256, UInt64> = .init(repeating: 0)
    private var ends: InlineArray<256, UInt64> = .init(repeating: 0)
    private(set) var count = 0

    func start(_ i: Int) -> UInt64 { starts[i] }
    func end(_ i: Int) -> UInt64 { ends[i] }
    mutating func setEnd(_ i: Int, _ v: UInt64) { ends[i] = v }

    /// Inserts `[s, e)` in order; with `merge`, coalesces it with overlapping or adjacent ranges.
    mutating func insertMerging(_ s: UInt64, _ e: UInt64, merge: Bool = true) throws(KmemError) {
        guard s < e else { return }
        guard count < RangeList.capacity else { throw .bootFailed(reason: "too many memory ranges") }
        var i = count
        while i > 0 && starts[i - 1] > s {
            starts[i] = starts[i - 1]
            ends[i] = ends[i - 1]
            i -= 1
        }
        starts[i] = s
        ends[i] = e
        count += 1
        if merge { coalesce() }
    }

    /// Inserts `[s, e)` without merging; when the list is full, the smallest range (maybe
    /// this one) is left out and noted in `dropped` (while it has room), so a map of very
    /// many small ranges keeps its largest ones.
    mutating func insertKeepingLargest(_ s: UInt64, _ e: UInt64, dropped: inout RangeList) {
        guard s < e else { return }
        if count < RangeList.capacity {
            try? insertMerging(s, e, merge: false)
            return
        }
        let i = smallest()
        guard ends[i] &- starts[i] < e &- s else { try? dropped.insertMerging(s, e, merge: false); return }
        try? dropped.insertMerging(starts[i], ends[i], merge: false)
        remove(i)
        try? insertMerging(s, e, merge: false)
    }

    /// `insertMerging`, or `insertKeepingLargest` once the list is full.
    mutating func insertOrKeepLargest(_ s: UInt64, _ e: UInt64, dropped: inout RangeList) throws(KmemError) {
        if count < RangeList.capacity { try insertMerging(s, e) } else { insertKeepingLargest(s, e, dropped: &dropped) }
    }

    /// Drops the smallest ranges until at most `limit` remain, noting them in `dropped`.
    mutating func keepLargest(_ limit: Int, dropped: inout RangeList) {
        while count > limit {
            let i = smallest()
            try? dropped.insertMerging(starts[i], ends[i], merge: false)
            remove(i)
        }
    }

    /// Index of the smallest range (the lowest one among equals).
    func smallest() -> Int {
        var best = 0
        for i in 1..<max(count, 1) where ends[i] &- starts[i] < ends[best] &- starts[best] { best = i }
        return best
    }

    /// Removes range `i`.
    mutating func remove(_ i: Int) {
        var j = i
        while j + 1 < count {
            starts[j] = starts[j + 1]
            ends[j] = ends[j + 1]
            j += 1
        }
        count -= 1
    }

    private mutating func coalesce() {
        var out = 0
        for i in 0..<count {
            if out > 0 && starts[i] <= ends[out - 1] {
                ends[out - 1] = max(ends[out - 1], ends[i])
            } else {
                starts[out] = starts[i]
                ends[out] = ends[i]
                out += 1
            }
        }
        count = out
    }

    /// Calls `body` with each piece of range `index` that no range of `other` covers.
    func subtracting(index: Int, _ other: RangeList,
                     _ body: (UInt64, UInt64) throws(KmemError) -> Void) throws(KmemError) {
        var cursor = starts[index]
        let e = ends[index]
        for j in 0..<other.count {
            let rs = other.starts[j], re = other.ends[j]
            if re <= cursor || rs >= e { continue }
            if rs > cursor { try body(cursor, rs) }
            cursor = max(cursor, re)
            if cursor >= e { return }
        }
        if cursor < e { try body(cursor, e) }
    }

    /// The range to carve `pages` from: the highest one below `below` with room, preferring
    /// ranges at or above `preferAbove`; else the highest one anywhere with room.
    func chooseCarve(pages: UInt64, below: UInt64, preferAbove: UInt64) -> Int? {
        var best: Int? = nil
        var i = count - 1
        while i >= 0 {
            let fits = ends[i] - starts[i] >= pages
            if fits && ends[i] <= below && starts[i] >= preferAbove { return i }
            if fits && ends[i] <= below && best == nil { best = i }
            i -= 1
        }
        if best != nil { return best }
        i = count - 1
        while i >= 0 {
            if ends[i] - starts[i] >= pages { return i }
            i -= 1
        }
        return nil
    }

    /// Drops ranges that became empty.
    mutating func removeEmpty() {
        var out = 0
        for i in 0..<count where starts[i] < ends[i] {
            starts[out] = starts[i]
            ends[out] = ends[i]
            out += 1
        }
        count = out
    }
}

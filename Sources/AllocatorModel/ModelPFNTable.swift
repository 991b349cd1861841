/// A table keyed by PFN, read like the dictionary it replaces (`table[pfn]`, `removeValue`,
/// iteration as `(key, value)` pairs), stored so that a lookup is two array loads instead of a
/// hash.
///
/// Why the reference model has it (issue 12: replay at ≥ 1 M operations per second): "the block
/// holding frame p" is found by trying p's head at each order 0…11, and every free, claim and
/// legality test asks it, so a replay made hundreds of lookups per operation, each hashing its
/// key with SipHash in a `Dictionary`. Here `position[pfn − base]` says where the entry is in
/// `entries`. It is still a table of the model's own — one entry per free head, allocated head,
/// cached or reserved frame, exactly what the dictionaries held — not the kernel's frame array,
/// bitmaps or links: the state reads the same beside kernel/README.md.
///
/// `entries` is dense (a removal moves the last entry into the hole), so copying the table — a
/// replay keeps a checkpoint copy to undo an operation — costs 4 bytes per frame plus the
/// entries. Keys more than `maxSpan` frames away from the others (a PFN from a corrupted
/// snapshot) are found through the `far` dictionary, so no key can make the array huge.
public struct PFNTable<Value: Sendable & Equatable>: Sendable, Equatable, Sequence {
    public typealias Element = (key: UInt64, value: Value)

    struct Entry: Sendable {
        var key: UInt64
        /// nil only for the moment a `_modify` access has the value out (so it is not copied).
        var value: Value?
    }

    /// The widest PFN range `position` may cover (2^24 frames: 64 GiB of RAM, 64 MiB of index).
    static var maxSpan: UInt64 { 1 << 24 }

    /// First PFN `position` covers.
    private var base: UInt64 = 0
    /// `position[pfn − base]`: 1 + the index of pfn's entry in `entries`, 0 when it has none.
    private var position: [UInt32] = []
    /// Positions of keys outside `position`'s range, in the same 1-based form.
    private var far: [UInt64: UInt32] = [:]
    private var entries: [Entry] = []

    public init() {}

    /// An empty table whose index already covers `range` (no growth while the model runs in it).
    public init(covering range: Range<UInt64>) {
        if !range.isEmpty && UInt64(range.count) <= Self.maxSpan {
            base = range.lowerBound
            position = Array(repeating: 0, count: range.count)
        }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// 1 + the index of `pfn`'s entry, 0 when it has none.
    @inline(__always) private func slot(_ pfn: UInt64) -> UInt32 {
        let i = pfn &- base
        if i < UInt64(position.count) { return position[Int(i)] }
        return far.isEmpty ? 0 : far[pfn] ?? 0
    }

    @inline(__always) private mutating func setSlot(_ pfn: UInt64, _ s: UInt32) {
        let i = pfn &- base
        if i < UInt64(position.count) {
            position[Int(i)] = s
        } else if s == 0 {
            far[pfn] = nil
        } else if grow(toCover: pfn) {
            position[Int(pfn - base)] = s
        } else {
            far[pfn] = s
        }
    }

    /// Widens `position` to cover `pfn` when the span stays within `maxSpan` (doubling, so a
    /// table filled frame by frame grows in O(1) amortized).
    private mutating func grow(toCover pfn: UInt64) -> Bool {
        guard !position.isEmpty else {
            guard far.isEmpty else { return false }
            base = pfn
            position = [0]
            return true
        }
        guard pfn < UInt64.max else { return false }
        let end = base + UInt64(position.count)
        let low = Swift.min(base, pfn), high = Swift.max(end, pfn + 1)
        guard high - low <= Self.maxSpan else { return false }
        let extra = Swift.min(UInt64(position.count), Self.maxSpan - (high - low))
        let newBase = pfn < base ? low - Swift.min(extra, low) : low
        let newEnd = pfn < base ? high : high + Swift.min(extra, UInt64.max - high)
        var wider = [UInt32](repeating: 0, count: Int(newEnd - newBase))
        let offset = Int(base - newBase)
        for (i, s) in position.enumerated() { wider[offset + i] = s }
        // Keys in `far` that the wider range now covers move in.
        for (key, s) in far where key >= newBase && key < newEnd {
            wider[Int(key - newBase)] = s
            far[key] = nil
        }
        base = newBase
        position = wider
        return true
    }

    public subscript(pfn: UInt64) -> Value? {
        get {
            let s = slot(pfn)
            return s == 0 ? nil : entries[Int(s - 1)].value
        }
        set {
            let s = slot(pfn)
            if let newValue {
                if s != 0 {
                    entries[Int(s - 1)].value = newValue
                } else {
                    entries.append(Entry(key: pfn, value: newValue))
                    setSlot(pfn, UInt32(entries.count))
                }
            } else if s != 0 {
                remove(at: Int(s - 1))
            }
        }
        // In place, as a dictionary's subscript: `table[pfn]!.list.append(x)` does not copy the list.
        _modify {
            let s = slot(pfn)
            var value: Value? = nil
            if s != 0 { swap(&value, &entries[Int(s - 1)].value) }
            defer {
                if s != 0 {
                    if value != nil { swap(&value, &entries[Int(s - 1)].value) } else { remove(at: Int(s - 1)) }
                } else if let value {
                    entries.append(Entry(key: pfn, value: value))
                    setSlot(pfn, UInt32(entries.count))
                }
            }
            yield &value
        }
    }

    /// Removes `pfn`'s entry and returns its value, as `Dictionary.removeValue(forKey:)`.
    @discardableResult
    public mutating func removeValue(forKey pfn: UInt64) -> Value? {
        let s = slot(pfn)
        guard s != 0 else { return nil }
        let value = entries[Int(s - 1)].value
        remove(at: Int(s - 1))
        return value
    }

    private mutating func remove(at i: Int) {
        setSlot(entries[i].key, 0)
        let last = entries.count - 1
        if i != last {
            entries.swapAt(i, last)
            setSlot(entries[i].key, UInt32(i + 1))
        }
        entries.removeLast()
    }

    public mutating func removeAll() { self = PFNTable() }

    /// The keys, in no particular order.
    public var keys: [UInt64] { entries.map(\.key) }
    /// The values, in no particular order.
    public var values: [Value] { entries.map { $0.value! } }

    public func makeIterator() -> AnyIterator<Element> {
        var i = 0
        return AnyIterator {
            guard i < entries.count else { return nil }
            defer { i += 1 }
            return (entries[i].key, entries[i].value!)
        }
    }

    /// Equal when they hold the same keys with equal values, however they are stored.
    public static func == (a: PFNTable, b: PFNTable) -> Bool {
        a.count == b.count && a.entries.allSatisfy { b[$0.key] == $0.value }
    }
}

import Testing

/// /proc/slabinfo's rows by cache name, for comparing kmemscope's with the guest's own:
/// name, objsize, objperslab and pagesperslab must be equal; num_objs, active_objs and the
/// slab counts may move between the guest printing the file and kmemscope stopping it (the
/// guest allocates a little after it printed: its shell, `cat` itself), by at most two slabs.
struct SlabinfoRows {
    struct Row: Equatable {
        var active: Int, objects: Int, size: Int, perSlab: Int, pages: Int, slabs: Int
    }
    var rows: [(name: String, row: Row)]

    init(_ text: String) {
        rows = text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count >= 16, !f[0].hasPrefix("#"), f[0] != "slabinfo",
                  let a = Int(f[1]), let o = Int(f[2]), let s = Int(f[3]), let p = Int(f[4]), let g = Int(f[5]), let sl = Int(f[13])
            else { return nil }
            return (String(f[0]), Row(active: a, objects: o, size: s, perSlab: p, pages: g, slabs: sl))
        }
    }

    /// Records an issue for each difference beyond what may move; returns how many rows were equal.
    @discardableResult
    static func compare(ours: String, guest: String, _ label: String) -> Int {
        let a = SlabinfoRows(ours), b = SlabinfoRows(guest)
        #expect(a.rows.map(\.name) == b.rows.map(\.name), "\(label): the same caches in the same order")
        #expect(!a.rows.isEmpty)
        var equal = 0
        for ((name, x), (_, y)) in zip(a.rows, b.rows) {
            #expect(x.size == y.size && x.perSlab == y.perSlab && x.pages == y.pages, "\(label) \(name): \(x) vs /proc \(y)")
            let slack = 2 * max(1, y.perSlab)
            #expect(abs(x.objects - y.objects) <= slack && abs(x.active - y.active) <= slack && abs(x.slabs - y.slabs) <= 2,
                    "\(label) \(name): \(x) vs /proc \(y)")
            if x == y { equal += 1 }
        }
        print("\(label): slabinfo \(equal) of \(b.rows.count) rows equal to /proc/slabinfo's, the rest within two slabs")
        return equal
    }
}

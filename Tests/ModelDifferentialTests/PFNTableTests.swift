import AllocatorModel
import Testing

/// `PFNTable` (the reference model's tables keyed by PFN) beside the `Dictionary` it replaced:
/// the same random insertions, updates in place, removals and lookups give the same contents,
/// including keys below the first one (the index grows down), keys far away (kept aside) and
/// keys that come back after being removed.
@Suite("PFNTable against Dictionary")
struct PFNTableTests {
    /// A small deterministic generator (the failure message names the seed).
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 17
        }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomOperationsMatchADictionary(seed: UInt64) {
        var g = Generator(state: seed)
        var table = PFNTable<[UInt64]>(covering: 0x1000..<0x1400)
        var reference: [UInt64: [UInt64]] = [:]
        func key() -> UInt64 {
            switch g.next() % 10 {
            case 0: return 0x800 + g.next() % 0x800            // below the covered range
            case 1: return 1 << 40 | g.next() % 16              // far away: kept aside
            case 2: return 0x1400 + g.next() % 0x4000           // above: the index grows
            default: return 0x1000 + g.next() % 0x400
            }
        }
        for step in 0..<4_000 {
            let k = key()
            switch g.next() % 6 {
            case 0, 1:
                table[k] = [UInt64(step)]
                reference[k] = [UInt64(step)]
            case 2:
                // In place, as the model's `heap.slabs[pfn]!.free.insert(…)`.
                if table[k] != nil { table[k]!.append(UInt64(step)) }
                if reference[k] != nil { reference[k]!.append(UInt64(step)) }
            case 3:
                table[k] = nil
                reference[k] = nil
            case 4:
                #expect(table.removeValue(forKey: k) == reference.removeValue(forKey: k), "seed \(seed) step \(step)")
            default:
                #expect(table[k] == reference[k], "seed \(seed) step \(step) key \(k)")
            }
            #expect(table.count == reference.count, "seed \(seed) step \(step)")
        }
        #expect(Dictionary(uniqueKeysWithValues: table.map { ($0.key, $0.value) }) == reference, "seed \(seed): iteration")
        #expect(Set(table.keys) == Set(reference.keys))
    }

    @Test func equalityIgnoresOrderAndLayout() {
        var a = PFNTable<Int>(covering: 0..<16)
        var b = PFNTable<Int>()
        for k: UInt64 in [3, 9, 1 << 50, 7] { a[k] = Int(k % 100) }
        for k: UInt64 in [7, 1 << 50, 9, 3] { b[k] = Int(k % 100) }
        #expect(a == b)
        b[9] = 0
        #expect(a != b)
        b[9] = 9
        b[11] = 1
        #expect(a != b)
        b[11] = nil
        #expect(a == b && b.count == 4)
    }
}

import KernelHarness
import KernelLayouts
import KernelMM

/// KernelMM booted over the shared host harness's standard map (`HostArena`, `ArenaMap.standard`:
/// 24 MiB, holes, reservations, three zones), with page poisoning, then run through a fixed mix
/// of allocations, frees and heap calls so that every kind of frame, list and slab exists. The
/// fuzz targets read it the way the CLI reads a guest: a valid layout descriptor (`descriptor`)
/// over a pristine copy of the memory (`pristine`).
struct FuzzArena {
    let base: UInt64
    let pristine: [UInt8]
    let descriptor: [UInt8]

    static let address: UInt = 0x6000_0000_0000

    init() {
        // At a fixed address, so the descriptor (which holds absolute addresses) is the same in
        // every process and a saved input replays.
        let arena: HostArena
        do {
            arena = try HostArena(map: .standard, poison: true, opLogCapacity: 4096, fixedAddress: Self.address)
        } catch { fatalError("arena boot failed: \(error)") }
        Self.exercise(arena.allocator)
        base = arena.directMap
        descriptor = arena.descriptorBytes()
        pristine = [UInt8](UnsafeRawBufferPointer(start: arena.base, count: arena.bytes))
    }

    /// A deterministic mix: blocks of orders 0–4 of both migratetypes in every zone, half of
    /// them freed again (per-CPU lists fill, buddies merge), and heap objects of every size class.
    static func exercise(_ a: PageAllocator) {
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return rng >> 33 }
        var blocks: [(PFN, Int)] = []
        var objects: [UInt64] = []
        for i in 0..<600 {
            let order = Int(next() % 5)
            let mt: Migratetype = next() % 2 == 0 ? .unmovable : .movable
            let zone: ZoneConstraint = [.dma, .dma32, .any][i % 3]
            if let pfn = try? a.allocate(AllocationRequest(order: order, migratetype: mt, zone: zone, owner: 0x1000 + UInt64(i))) {
                blocks.append((pfn, order))
            }
            if let o = try? a.kmalloc(size: 8 << (next() % 9)) { objects.append(o) }
        }
        for (i, b) in blocks.enumerated() where i % 2 == 0 { try? a.free(b.0, order: b.1) }
        for (i, o) in objects.enumerated() where i % 3 == 0 { try? a.kfree(o) }
    }
}

/// Guest memory over a byte array at `base`, with patches laid over it: what a fuzz input
/// makes of the arena. Reads outside the array fail as the stub's `E14` would.
struct PatchedMemory: GuestMemory {
    struct Unmapped: Error {}
    let base: UInt64
    let bytes: [UInt8]
    /// (offset from `base`, bytes) laid over `bytes`, later ones on top.
    let patches: [(offset: Int, bytes: ArraySlice<UInt8>)]

    func read(at address: UInt64, count: Int) throws -> [UInt8] {
        guard count >= 0, address >= base else { throw Unmapped() }
        let (o, overflow) = (address - base).addingReportingOverflow(UInt64(count))
        guard !overflow, o <= UInt64(bytes.count) else { throw Unmapped() }
        let start = Int(address - base)
        var out = Array(bytes[start..<(start + count)])
        for p in patches {
            let lo = max(p.offset, start), hi = min(p.offset + p.bytes.count, start + count)
            guard lo < hi else { continue }
            for i in lo..<hi { out[i - start] = p.bytes[p.bytes.startIndex + (i - p.offset)] }
        }
        return out
    }
}

/// Reads the fuzz input as a stream of little-endian fields.
struct InputReader {
    var data: ArraySlice<UInt8>
    init(_ p: UnsafePointer<UInt8>?, _ n: Int) { data = n > 0 && p != nil ? ArraySlice(UnsafeBufferPointer(start: p, count: n)) : [] }
    var isEmpty: Bool { data.isEmpty }
    mutating func byte() -> UInt8 { data.popFirst() ?? 0 }
    mutating func u32() -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(byte()) << (8 * $1) } }
    mutating func take(_ n: Int) -> ArraySlice<UInt8> {
        let k = min(n, data.count)
        defer { data = data.dropFirst(k) }
        return data.prefix(k)
    }
}

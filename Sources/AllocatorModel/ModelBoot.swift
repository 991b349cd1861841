import BundledState

/// Starting the model at sequence 0: "Boot" and the watermark formulas of kernel/README.md.
extension ModelState {
    /// A segment as boot finds it.
    public struct SegmentSpec: Sendable, Equatable {
        public var startPFN: UInt64
        public var endPFN: UInt64
        public var zone: Int

        public init(startPFN: UInt64, endPFN: UInt64, zone: Int) {
            self.startPFN = startPFN
            self.endPFN = endPFN
            self.zone = zone
        }
    }

    /// The state right after boot: "Boot gives each segment, lowest segment first, to the buddy
    /// lists as maximal aligned blocks from its start upward (the largest order k ≤ 11 whose block
    /// is aligned and fits), each pushed on the Movable list of its order; all pageblock tags start
    /// Movable. Per-CPU lists start empty." Watermarks, lowmem reserve and per-CPU batch/high are
    /// computed by the contract's formulas (`Parameters`); pass `parameters` to use others (a
    /// snapshot's).
    public init(boot specs: [SegmentSpec], zoneCount: Int = 3, directMap: UInt64, poisoning: Bool = false,
                parameters: [Parameters]? = nil) {
        var zones = (0..<zoneCount).map { Zone(index: $0, segments: []) }
        var segments: [Segment] = []
        for (i, s) in specs.enumerated() {
            let zone = Self.modelZone(s.zone, zoneCount: zoneCount)
            segments.append(Segment(index: i, zone: zone, startPFN: s.startPFN, endPFN: s.endPFN))
            zones[zone].segments.append(i)
            if s.endPFN > s.startPFN { zones[zone].managedPages += s.endPFN - s.startPFN }
        }
        self.init(zones: zones, segments: segments, directMap: directMap)
        self.poisoning = poisoning
        let p = parameters ?? Parameters.formulas(managed: zones.map(\.managedPages))
        for z in 0..<zoneCount { apply(p[z], zone: z) }
        for s in segments.indices {
            var pfn = segments[s].startPFN
            while pfn < segments[s].endPFN {
                var k = Self.maxOrder
                while k > 0 && (pfn % Self.pages(k) != 0 || pfn + Self.pages(k) > segments[s].endPFN) { k -= 1 }
                pushFree(pfn, order: k, mt: 1, segment: s)
                pfn += Self.pages(k)
            }
        }
    }

    /// The zone the model files a segment under: its own, or zone 0 when a snapshot's segment
    /// names no zone there is (guest data overwritten: `zone-parameters` and `frame-fields`
    /// report it). The model indexes its zones by a segment's zone everywhere; it must not trap.
    static func modelZone(_ zone: Int, zoneCount: Int) -> Int {
        zone >= 0 && zone < zoneCount ? zone : 0
    }

    mutating func apply(_ p: Parameters, zone z: Int) {
        zones[z].watermarkMin = p.min
        zones[z].watermarkLow = p.low
        zones[z].watermarkHigh = p.high
        zones[z].lowmemReserve = p.lowmemReserve
        zones[z].pcpBatch = p.batch
        zones[z].pcpHigh = p.pcpHigh
    }

    /// A zone's watermarks, lowmem reserve and per-CPU parameters.
    public struct Parameters: Sendable, Equatable, CustomStringConvertible {
        public var min: UInt64, low: UInt64, high: UInt64
        public var lowmemReserve: [UInt64]
        public var batch: UInt64, pcpHigh: UInt64

        public init(min: UInt64, low: UInt64, high: UInt64, lowmemReserve: [UInt64], batch: UInt64, pcpHigh: UInt64) {
            self.min = min
            self.low = low
            self.high = high
            self.lowmemReserve = lowmemReserve
            self.batch = batch
            self.pcpHigh = pcpHigh
        }

        /// "Watermarks (Linux's formulas): min_free_kbytes = sqrt(16 × managed KiB) clamped to
        /// [128, 65536], shared by managed pages; low = 5/4 min, high = 3/2 min; lowmem reserve
        /// ratio 256 for DMA and DMA32, 32 for Normal; per-CPU batch = clamp(managed/4096, 1, 31),
        /// high = 6 × batch."
        ///
        /// As Linux computes them: `min` of zone Z is `min_free_kbytes / 4 × managed(Z) / total
        /// managed` (integer division), the square root is the integer one, and
        /// `lowmemReserve[j]` of zone Z is the managed pages of the zones above Z up to j divided by
        /// Z's ratio (0 for j ≤ Z).
        ///
        /// Arithmetic wraps rather than traps: the managed counts may come from a corrupted
        /// guest, and a check must report them, not crash on them.
        public static func formulas(managed: [UInt64]) -> [Parameters] {
            let total = managed.reduce(0, &+)
            let kbytes = Swift.min(Swift.max(isqrt(16 &* total &* 4), 128), 65536)
            let minPages = kbytes / 4
            let ratios: [UInt64] = [256, 256, 32]
            return managed.indices.map { z in
                let m = total == 0 ? 0 : minPages.multipliedFullWidth(by: managed[z]).low / total
                let reserve = managed.indices.map { j -> UInt64 in
                    j <= z ? 0 : managed[(z + 1)...j].reduce(0, &+) / ratios[Swift.min(z, ratios.count - 1)]
                }
                let batch = managed[z] == 0 ? 0 : Swift.min(Swift.max(managed[z] / 4096, 1), 31)
                return Parameters(min: m, low: m &+ m / 4, high: m &+ m / 2, lowmemReserve: reserve, batch: batch, pcpHigh: 6 &* batch)
            }
        }

        /// The parameters a snapshot's zone carries.
        public init(_ z: ZoneSnapshot) {
            self.init(min: z.watermarkMin, low: z.watermarkLow, high: z.watermarkHigh, lowmemReserve: z.lowmemReserve,
                      batch: z.pcpBatch, pcpHigh: z.pcpHigh)
        }

        public var description: String {
            "min \(min) low \(low) high \(high) lowmem reserve \(lowmemReserve) batch \(batch) pcp high \(pcpHigh)"
        }

        /// Integer square root (floor), Newton's method: exact and trap-free for every UInt64.
        static func isqrt(_ n: UInt64) -> UInt64 {
            if n < 2 { return n }
            var x = n
            var y = x / 2 + (x & 1)   // ceil(n / 2), without overflow
            while y < x {
                x = y
                y = (x &+ n / x) / 2
            }
            return x
        }
    }

    /// The state at sequence 0 of the kernel a snapshot was taken from: its segments, and its
    /// zones' parameters as the snapshot gives them. `disagreements` lists where those differ
    /// from the contract's formulas (empty when they agree).
    ///
    /// Memory hot-added since the boot (the `addMemory` entries of `log` that succeeded) is not
    /// managed at sequence 0: its segments are left out and its frames, with every frame the
    /// snapshot shows as held back (a zone, no state, no segment), form the held-back RAM a
    /// replayed `addMemory` adds again; the boot parameters are then the formulas' for the
    /// boot-time managed pages.
    public static func boot(like snapshot: KernelSnapshot, poisoning: Bool = false,
                            log: [OpLogRecord] = []) -> (state: ModelState, disagreements: [String]) {
        let added = log.filter { $0.kind == .addMemory && $0.status == 0 && $0.size > 0 && $0.address <= UInt64.max - $0.size }
            .map { $0.address..<($0.address + $0.size) }
        let atBoot = snapshot.segments.filter { s in !added.contains { $0.contains(s.startPFN) } }
        let specs = atBoot.map { SegmentSpec(startPFN: $0.startPFN, endPFN: $0.endPFN, zone: $0.zone) }
        var given = snapshot.zones.map(Parameters.init)
        if atBoot.count != snapshot.segments.count {
            var managed = Array(repeating: UInt64(0), count: snapshot.zones.count)
            for s in atBoot where s.zone < managed.count { managed[s.zone] += s.endPFN - s.startPFN }
            given = Parameters.formulas(managed: managed)
        }
        var state = ModelState(boot: specs, zoneCount: snapshot.zones.count, directMap: snapshot.heap?.directMap ?? 0,
                               poisoning: poisoning, parameters: given)
        state.zoneLimits = snapshot.zoneLimits
        state.heldBack = heldBackRAM(snapshot, plus: added)
        let computed = Parameters.formulas(managed: state.zones.map(\.managedPages))
        var disagreements: [String] = []
        for z in snapshot.zones.indices where atBoot.count == snapshot.segments.count {
            if state.zones[z].managedPages != snapshot.zones[z].managedPages {
                disagreements.append("zone \(snapshot.zones[z].name): managed \(snapshot.zones[z].managedPages), segments hold \(state.zones[z].managedPages)")
            }
            if computed[z] != given[z] {
                disagreements.append("zone \(snapshot.zones[z].name): snapshot \(given[z]), formulas \(computed[z])")
            }
        }
        return (state, disagreements)
    }

    /// Frames held back at boot: a zone, no state, no segment in `snapshot`, and the ranges a
    /// hot-add has taken since; merged into sorted ranges. Bounded by the frame table.
    static func heldBackRAM(_ snapshot: KernelSnapshot, plus added: [Range<UInt64>]) -> [Range<UInt64>] {
        var ranges = added
        var run: UInt64? = nil
        let count = UInt64(snapshot.frames.count)
        var pfn: UInt64 = 0
        while pfn <= count {
            let held = pfn < count && snapshot.frames[pfn].map { $0.flags == 0 && $0.segment == 0xFFFF && $0.zone != 0xFF } == true
            if held, run == nil { run = pfn }
            if !held, let r = run { ranges.append(r..<pfn); run = nil }
            pfn += 1
        }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<UInt64>] = []
        for r in ranges {
            if let last = merged.last, r.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        return merged
    }
}

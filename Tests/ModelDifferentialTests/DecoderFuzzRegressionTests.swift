import AllocatorText
import BundledChecks
import BundledState
import KernelHarness
import BundledKernel
import KernelLayouts
import KernelMM
import Testing

/// Inputs found by scripts/fuzz.sh (`descriptor` and `snapshot` targets) that trapped the
/// decoders before they were fixed, replayed on a booted KernelMM arena: each is refused with
/// a named error or decoded and reported by a check, never a trap.
@Suite("Decoder fuzz regressions")
struct DecoderFuzzRegressionTests {
    /// The arena's descriptor with `key` set to `value`.
    static func info(_ arena: HostArena, _ key: String, _ value: String) throws -> KernelInfo {
        let good = try arena.info()
        let text = good.entries.map { "\($0.key)=\($0.key == key ? value : $0.value)\n" }.joined()
        var header = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: KernelInfo.magic.littleEndian) { for i in 0..<8 { header[i] = $0[i] } }
        header[8] = 1
        return try KernelInfo(address: 0, header: header, text: Array(text.utf8))
    }

    static func decode(_ arena: HostArena, _ info: KernelInfo) throws -> KernelSnapshot {
        try SnapshotDecoder(info: info, memory: arena.memory).decode()
    }

    /// fuzz-descriptor, 2026-11-30: an offset pointing the zone's `firstSegment` at a field
    /// holding a value past Int.max trapped in `Int(_:)`. Written into the zone itself here.
    @Test func aZoneFirstSegmentPastIntIsDecodedAndReported() throws {
        let arena = try HostArena.differential()
        arena.allocator.zone(1).pointee.firstSegment = .max
        let snapshot = try Self.decode(arena, try arena.info())
        let report = Verifier(snapshot).run()
        #expect(report.counts[.zoneParameters, default: 0] > 0, "\(report.text)")
    }

    /// Sizes and offsets past the structure or Int's range are refused with one line.
    @Test(arguments: [
        ("OFFSET(PerCPUPages.count)", "18446744073709551615", "OFFSET(PerCPUPages.count)"),
        ("PCP_CPUS", "17", "PCP_CPUS"),
        ("PCP_CPUS", "0", "PCP_CPUS"),
        ("PCP_STRIDE", "8", "PCP_STRIDE"),
        ("PCP_ZONES", "4", "PCP_ZONES"),
        ("OFFSET(FrameMeta.flags)", "9223372036854775808", "OFFSET(FrameMeta.flags)"),
        ("SIZE(Zone)", "0", "SIZE(Zone)"),
        ("SIZE(SlabCache)", "18446744073709551615", "SIZE(SlabCache)"),
        ("PAGE_SIZE", "18446744073709551615", "PAGE_SIZE"),
        ("PAGE_SIZE", "4095", "PAGE_SIZE"),
        ("PAGEBLOCK_ORDER", "9223372036854775808", "PAGEBLOCK_ORDER"),
        ("MIGRATETYPES", "18446744073709551615", "MIGRATETYPES"),
    ])
    func anImplausibleDescriptorValueIsRefused(key: String, value: String, named: String) throws {
        let arena = try HostArena.differential()
        let info = try Self.info(arena, key, value)
        #expect {
            _ = try Self.decode(arena, info)
        } throws: { error in
            guard case SnapshotError.implausible(let what, _, _) = error else { return false }
            return what == named
        }
    }

    /// A guest sequence of UInt64.max (or an entry size that wraps the ring's address) must
    /// not wrap the op-log decoder's loop or address arithmetic.
    @Test func theOpLogDecoderSurvivesTheLastSequence() throws {
        let arena = try HostArena.differential()
        let decoder = OpLogDecoder(info: try arena.info(), memory: arena.memory)
        let records = try decoder.last(8, upTo: .max)
        #expect(records.allSatisfy { $0.sequence > UInt64.max - 8 })
        #expect(try decoder.last(-1, upTo: 5).isEmpty)
    }

    /// Found by kmem-corrupt (Segment.firstPageblock one more): the pageblock-tag check's
    /// index `pfn >> 9 - firstPageblock` trapped below the segment's first pageblock.
    @Test func aFirstPageblockPastTheSegmentsStartIsReported() throws {
        let arena = try HostArena.differential(large: true)
        arena.allocator.segment(0).pointee.firstPageblock += 1
        let report = Verifier(try Self.decode(arena, try arena.info())).run()
        #expect(report.counts[.pageblockTags, default: 0] > 0, "\(report.text)")
    }

    /// fuzz-snapshot and fuzz-descriptor, 2026-11-30 (5-minute runs): slabinfo's slab and
    /// object totals, and slab-structure's objects × size, trapped on counts past 2^64.
    @Test func slabCountsPast64BitsAreShownAndReported() throws {
        let arena = try HostArena.differential(large: true)
        _ = try arena.allocator.kmalloc(size: 64)
        let index = try #require((0..<8).first { arena.allocator.cache($0).pointee.partialHead != UInt64.max })
        arena.allocator.cache(index).pointee.fullSlabs = .max
        arena.allocator.cache(index).pointee.objectsPerSlab = 1 << 62
        let snapshot = try Self.decode(arena, try arena.info())
        #expect(ProcText.slabinfo(snapshot.allocatorView(FreeListCensus(snapshot))).contains("18446744073709551615"))
        let report = Verifier(snapshot).run()
        #expect(report.counts[.slabStructure, default: 0] > 0, "\(report.text)")
    }

    /// fuzz-descriptor, 2026-11-30 (second 200 s run): the zone's free + pcp + allocated +
    /// reserved sum trapped on counters past 2^64; it is a counters violation.
    @Test func zoneCountersPast64BitsAreACountersViolation() throws {
        let arena = try HostArena.differential(large: true)
        arena.allocator.zone(1).pointee.freePages = .max
        let report = Verifier(try Self.decode(arena, try arena.info())).run()
        #expect(report.counts[.counters, default: 0] > 0, "\(report.text)")
    }
}

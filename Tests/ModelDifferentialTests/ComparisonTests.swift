import AllocatorModel
import KernelMM
import Testing

/// The final comparison names what differs: after a random run on which model and kernel
/// agree, one fault injected into KernelMM's state (silently, as `fault=KIND@SEQ` does) must
/// show up in `ModelComparison` at the corrupted frame or list, with the frame's `lastSeq`.
@Suite("Model against a corrupted snapshot")
struct ComparisonTests {
    static let kinds: [FaultKind] = [.doubleFree, .brokenLink, .wrongOrder, .counterDrift, .lostBlock, .overlap,
                                     .refcount, .pageblockTag, .slabFreelist]

    @Test(arguments: kinds)
    func anInjectedFaultIsNamed(kind: FaultKind) throws {
        var storm = try Storm(seed: 31, options: Storm.Options(large: true))
        storm.run(operations: 300)
        try #require(storm.failure == nil, "\(storm.failure ?? "")")
        let clean = ModelComparison(model: storm.model, snapshot: try storm.arena.snapshot())
        try #require(clean.matches, "seed 31: \(clean.text)")
        let fault = try #require(storm.pa.injectFault(kind), "no target for \(kind.name)")
        let c = ModelComparison(model: storm.model, snapshot: try storm.arena.snapshot())
        #expect(!c.matches, "seed 31: \(kind.name) at pfn \(fault.pfn) went unnoticed")
        if kind == .counterDrift {
            #expect(c.differences.contains { $0.what.contains("free pages") }, "\(c.text)")
        } else {
            // The frame, or (for a tag) its pageblock, is named.
            let pfn = kind == .pageblockTag ? fault.pfn.raw & ~511 : fault.pfn.raw
            let name = "0x" + String(pfn, radix: 16)
            let named = c.differences.contains { $0.pfn == pfn || $0.what.contains(name) || $0.model.contains(name) || $0.snapshot.contains(name) }
            #expect(named, "seed 31: \(kind.name) at pfn 0x\(String(fault.pfn.raw, radix: 16)):\n\(c.text)")
            #expect(c.differences.contains { $0.lastSeq != nil } || kind == .slabFreelist, "\(c.text)")
        }
    }
}

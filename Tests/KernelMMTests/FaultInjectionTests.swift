import KernelHarness
import Testing
@testable import KernelMM

/// Every fault kind corrupts the state so that the self-check fires the matching check.
@Suite("Fault injection")
struct FaultInjectionTests {
    /// An arena with some traffic: lists with several blocks, allocated frames, slabs.
    func busyArena() throws -> HostArena {
        let a = try HostArena()
        let pa = a.allocator
        var rng = SplitMix64(seed: 3)
        var live: [(PFN, Int)] = []
        for _ in 0..<300 {
            let k = Int(rng.next() % 4)
            if let p = try pa.allocate(AllocationRequest(order: k, migratetype: rng.next() % 2 == 0 ? .movable : .unmovable)) { live.append((p, k)) }
        }
        for (i, (p, k)) in live.enumerated() where i % 3 == 0 { try pa.free(p, order: k) }
        for _ in 0..<50 { _ = try pa.kmalloc(size: 1 + rng.next() % 2048) }
        #expect(a.check().passed, "\(a.check().text)")
        return a
    }

    static let expected: [(FaultKind, SelfCheck)] = [
        (.doubleFree, .freeListLinks), (.brokenLink, .freeListLinks), (.listCycle, .freeListLinks),
        (.parityFlip, .parity), (.allocBitmapFlip, .allocBitmap), (.wrongOrder, .freeListEntry),
        (.counterDrift, .counters), (.lostBlock, .freeListMembership), (.overlap, .tiling),
        (.refcount, .refcount), (.pageblockTag, .pageblockTags), (.slabFreelist, .slab), (.useAfterFree, .slabPoison),
    ]

    @Test(arguments: FaultInjectionTests.expected)
    func faultIsDetected(kind: FaultKind, check: SelfCheck) throws {
        let a = try busyArena()
        let report = try #require(a.allocator.injectFault(kind))
        #expect(report.kind == kind && report.pfn < a.allocator.frameEnd)
        let r = a.allocator.selfCheck()
        let fired = SelfCheck.allCases.filter { r.fired($0) }
        #expect(r.fired(check), "\(kind.name): fired \(fired.map { $0.name.description })")
        var s = TextCollector()
        report.write(to: &s)
        #expect(s.text.hasPrefix("kmem: fault: injected \(kind.name) pfn 0x"))
    }

    @Test func everyKindHasAnExpectation() {
        #expect(Set(FaultInjectionTests.expected.map { $0.0 }) == Set(FaultKind.allCases))
        for k in FaultKind.allCases {
            let name = Array(k.name.description.utf8)
            #expect(name.withUnsafeBufferPointer { FaultKind.named($0.baseAddress!, count: $0.count) } == k)
        }
    }
}

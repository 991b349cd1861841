import CorruptionTool
import GDBRemote
import KernelLayouts
import KernelSession
import Testing

/// The corruption tool against the real kernel: a wrong value written through the stub into
/// every field docs/checks.md lists must be reported by the named check at the corrupted
/// frame, zone, segment or cache (or be a documented gap), and the guest must verify clean
/// again once each write is undone.
@Suite("Corruption of every field", .serialized)
struct CorruptionMatrixTests {
    @Test func everyFieldsCorruptionIsNoticedWhereItWasWritten() throws {
        let boot = try DebugBoot(memory: "128M", append: "seed=3 ops=3000 phases=2")
        defer { boot.stop() }
        try boot.runUntil(["kmem: done"])
        let session = try GuestSession.attach(kernel: try KernelImage(path: DebugBoot.kernel), to: .unix(boot.socket))
        let (results, after) = try session.read { s in
            _ = try s.settle()
            let runner = CorruptionRunner(target: s.target, info: s.info, memory: s.memory)
            let results = try runner.run(FieldCorruption.catalogue)
            return (results, try runner.verify().1)
        }
        #expect(after.passed, "not clean after every write was undone:\n\(after.text)")
        #expect(results.count == FieldCorruption.catalogue.count)
        for r in results {
            if case .noTarget = r.outcome { Issue.record("\(r.corruption.name): the guest had no target"); continue }
            #expect(r.asPromised, "\(r.line)")
            if r.corruption.expected.isEmpty { #expect(r.corruption.uncheckable != nil) }
        }
        // Most checks are hit by some field (coalescible-buddies and block-alignment need two frames changed at once).
        let hit = Set(results.compactMap { $0.hit?.check })
        #expect(hit.count >= 16, "checks hit: \(hit.map(\.rawValue).sorted())")
    }
}

import Foundation
import Testing

/// What a user is told at the edges of attaching: a watch whose checkpoint never comes.
@Suite("Attach edges", .serialized)
struct AttachEdgeTests {
    /// The workload has ended, so no checkpoint comes: `watch --stops 1 --wait 3` says that
    /// (exit 2, no verdict), not that the stub is hung, and the guest runs on as it was found.
    @Test func watchWithNoCheckpointInTimeSaysSo() throws {
        let boot = try DebugBoot(memory: "128M", append: "seed=1 ops=2000 phases=1")
        defer { boot.stop() }
        try boot.runUntil(["kmem: done"])   // detached: the guest idles, running
        let r = try InfoCommandTests.kmemscope(["watch", "--stops", "1", "--wait", "3", "--target", "unix:" + boot.socket,
                                                "--elf", DebugBoot.kernel])
        #expect(r.status == 2, "\(r.out)\n\(r.err)")
        #expect(r.err.contains("no checkpoint within 3 s: the guest ran on to sequence "), "\(r.err)")
        #expect(!r.err.contains("hung") && !r.err.contains("no reply"), "\(r.err)")
        #expect(try boot.vmStatus() == "running")
    }
}

import Foundation
import Testing

/// Attaching at random moments of a running workload: every attach settles to an operation
/// boundary (running to `kmem_op_end` when it landed inside one) and verify finds nothing.
@Suite("Random attaches")
struct RandomAttachTests {
    @Test func verifyAtRandomMomentsOfARunningWorkloadFindsNoViolation() throws {
        // Enough operations that the workload is still running when the last attach comes.
        let boot = try DebugBoot(memory: "256M", append: "seed=1 ops=20000000 phases=4")
        defer { boot.stop() }
        try boot.release()
        var generator = SystemRandomNumberGenerator()
        var sequences: [UInt64] = []
        var ranToEnd = 0
        for attach in 1...30 {
            usleep(UInt32.random(in: 0...300_000, using: &generator))
            let r = try InfoCommandTests.kmemscope(["verify", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
            #expect(r.status == 0, "attach \(attach): \(r.err)\n\(r.out.prefix(2000))")
            let line = r.err.split(separator: "\n").first { $0.hasPrefix("stopped at sequence ") }
            #expect(line?.contains("between operations") == true, "attach \(attach): \(r.err)")
            if line?.contains("ran to the end") == true { ranToEnd += 1 }
            if let n = line?.split(separator: " ")[3].filter(\.isNumber), let s = UInt64(n) { sequences.append(s) }
            #expect(try boot.vmStatus() == "running", "attach \(attach) left the guest stopped")
        }
        #expect(sequences.count == 30)
        #expect(Set(sequences).count >= 25, "the workload moved between attaches: \(sequences)")
        #expect(!boot.serial.contains("kmem: done"), "still running at the last attach")
        print("random attaches: 30, ran to kmem_op_end: \(ranToEnd), sequences \(sequences.first ?? 0)…\(sequences.last ?? 0)")
    }
}

import Foundation
import QEMULauncher
import Testing

/// The workload on four CPUs running free (`smp=free`, kernel/README.md "Workload" and
/// "Operations in progress"): every CPU inside the allocator at once under QEMU's
/// multi-threaded TCG. The run reaches `kmem: done` with the self-check ok, verify passes, the
/// replay of the interleaved log ends in the guest's state, the descriptor's new keys pass the
/// ELF cross-check, and the commands that need a repeatable run refuse it (exit 2). Before the
/// workload, `pcpbench=` times order-0 pairs on 1, 2 and 4 CPUs at once (a line each; the
/// figures are not judged: docs/performance.md has them).
@Suite("Workload running free on four CPUs", .serialized)
struct SMPFreeRunTests {
    @Test func fourCPUsAtOnceReachDoneVerifyAndReplayCleanAndBisectAndWatchRefuse() throws {
        let boot = try DebugBoot(memory: "128M", append: "pcpbench=100 seed=6 ops=2000 phases=2 smp=free", cpus: 4, multiThreaded: true)
        defer { boot.stop() }
        try boot.release(until: "kmem: done", timeout: 300)
        let serial = boot.serial
        #expect(serial.contains("kmem: workload on 4 CPUs running free (smp=free)"), "\(serial.suffix(2000))")
        for round in ["1 cpu", "2 cpus", "4 cpus"] {
            #expect(serial.contains("kmem: pcpbench: \(round) x 100 pairs: "), "\(serial.prefix(4000))")
        }
        for cpu in 0..<4 { #expect(serial.contains("kmem: workload: cpu \(cpu) ran 500 operations"), "\(serial.suffix(2000))") }
        #expect(serial.contains("kmem: self-check: ok") && !serial.contains("kmem: BUG"), "\(serial.suffix(2000))")

        let target = ["--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel]
        let info = try InfoCommandTests.kmemscope(["info"] + target)
        #expect(info.status == 0 && !info.err.contains("does not check"), "\(info.err)\n\(info.out.prefix(1500))")
        #expect(info.out.contains("now: CPUs run free (smp=free)") && info.out.contains("no CPU inside an allocator operation"),
                "\(info.out)")
        // a snapshot holds what info reads (the CPUs' rows and the turn word): the same lines offline
        let file = SnapshotCommandTests.temporary("free-run.kms")
        defer { unlink(file) }
        let taken = try InfoCommandTests.kmemscope(["snapshot", "-o", file] + target)
        #expect(taken.status == 0, "\(taken.err)")
        let offline = try InfoCommandTests.kmemscope(["info", "--snapshot", file, "--elf", DebugBoot.kernel])
        #expect(offline.status == 0 && offline.out == info.out, "live:\n\(info.out)\noffline:\n\(offline.out)\n\(offline.err)")
        let log = try InfoCommandTests.kmemscope(["log", "--last", "65536"] + target)
        #expect(log.status == 0, "\(log.err)")
        #expect(Set(SMPTurnsTests.cpus(log.out)) == ["0", "1", "2", "3"], "every CPU ran operations")
        let verify = try InfoCommandTests.kmemscope(["verify", "--replay"] + target)
        #expect(verify.status == 0 && verify.out.contains("all passed") && verify.out.contains("0 illegal and 0 policy divergences"),
                "\(verify.err)\n\(verify.out.prefix(3000))")

        let watch = try InfoCommandTests.kmemscope(["watch", "--stops", "1"] + target)
        #expect(watch.status == 2 && watch.err.contains("smp=free") && watch.out.isEmpty, "\(watch.out)\n\(watch.err)")
        let bisect = try InfoCommandTests.kmemscope(["bisect", "--memory", "128M", "--smp", "4", "--append", "seed=6 ops=2000 smp=free",
                                                     "--elf", DebugBoot.kernel])
        #expect(bisect.status == 2 && bisect.err.contains("smp=free"), "\(bisect.out)\n\(bisect.err)")
    }
}

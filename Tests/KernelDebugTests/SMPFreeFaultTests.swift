import Foundation
import Testing

/// Faults and stop points with four CPUs running free (`smp=free`, kernel/README.md "Fault
/// injection" and "Checkpoints and stopping at a sequence number"): a fault of each family (a
/// free list's, a zone counter's, a slab's) fires once, on whichever CPU's operation reaches its
/// sequence, with the turns' serial line, and `kmemscope verify` names its check; the console's
/// `until` stops a free-running guest at the first boundary at or past a sequence. One boot per
/// case, 256M, under QEMU's multi-threaded TCG (the CPUs truly at once).
@Suite("Faults and stop points on four CPUs running free", .serialized)
struct SMPFreeFaultTests {
    /// The workload: 2,000 operations over four CPUs take about 2,300 sequence numbers.
    static let workload = "seed=6 ops=2000 phases=2 smp=free"
    /// Late in the run, so little traffic follows the corruption.
    static let faultSequence: UInt64 = 1800

    static let faults: [(String, String)] = [
        ("lost-block", "free-list-membership"), ("counter-drift", "counters"), ("slab-freelist", "slab-structure"),
    ]

    @Test(arguments: SMPFreeFaultTests.faults)
    func faultFiresAtItsSequenceAndVerifyNamesItsCheck(kind: String, check: String) throws {
        let boot = try DebugBoot(memory: "256M", append: "\(Self.workload) fault=\(kind)@\(Self.faultSequence)", cpus: 4, multiThreaded: true)
        defer { boot.stop() }
        try boot.runUntil(["kmem: done", "kmem: BUG:"], timeout: 300)
        let serial = boot.serial
        #expect(serial.contains("kmem: workload on 4 CPUs running free (smp=free)"), "\(serial.suffix(2000))")
        let lines = serial.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("kmem: fault: ") }
        // exactly one CPU injected it, once
        #expect(lines.count == 1, "\(lines)\n\(serial.suffix(2000))")
        let injected = try #require(lines.first { $0.hasPrefix("kmem: fault: injected \(kind) pfn 0x") }, "\(serial.suffix(2000))")
        let seq = try #require(UInt64(injected.split(separator: " ").last ?? ""), "\(injected)")
        #expect(seq >= Self.faultSequence && seq < Self.faultSequence + 400, "\(injected)")
        let r = try InfoCommandTests.kmemscope(["verify", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        #expect(r.out.contains("\n\(check) "), "\(kind) must fail \(check):\n\(r.out.prefix(2000))")
        if kind != "counter-drift" {
            let pfn = String(injected.split(separator: " ")[5])   // "0x…"
            #expect(r.out.contains(pfn), "the report names \(pfn):\n\(r.out.prefix(2000))")
        }
    }

    /// `until SEQ` on a guest whose CPUs run free: one CPU's operation reaches SEQ and that
    /// CPU (alone) calls `kmem_checkpoint`; the console settles the others and stops at or just
    /// past SEQ, the state there verifies clean, and the kernel cleared `kmem_stop_seq` (its
    /// checkpoint line for phase 1, mid-run, is printed once the guest runs on).
    @Test func untilStopsAFreeRunningGuestAtTheSequence() throws {
        let boot = try DebugBoot(memory: "256M", append: "seed=6 ops=20000000 phases=2 smp=free", cpus: 4, multiThreaded: true)
        defer { boot.stop() }
        try boot.release(until: "kmem: workload on 4 CPUs running free", timeout: 120)
        let target = "unix:" + boot.socket
        let first = try ConsoleTests.pipe("stop\n", target: target)
        let at = try #require(ConsoleTests.sequence(after: "stopped at sequence ", in: first.out + first.err), "\(first.out)\n\(first.err)")
        let goal = at + 5_000
        let r = try ConsoleTests.pipe("until \(goal) 120\nverify\n", target: target)
        let text = r.out + r.err
        let reached = try #require(ConsoleTests.sequence(after: "reached: stopped at sequence ", in: text), "\(text.suffix(2000))")
        #expect(reached >= goal && reached < goal + 400, "\(text.suffix(2000))")
        #expect(text.contains("verify: 20 checks over") && text.contains("all passed"), "\(text.suffix(3000))")
        // the guest runs on (it was found running): the stopping CPU prints its checkpoint,
        // at a sequence at or past the goal and no later than where the console stopped it
        let start = Date()
        var line: UInt64?
        while line == nil && Date().timeIntervalSince(start) < 20 {
            line = ConsoleTests.sequence(after: "kmem: checkpoint phase 1 seq ", in: boot.serial)
            usleep(50_000)
        }
        let printed = try #require(line, "no checkpoint line: \(boot.serial.suffix(1500))")
        #expect(printed >= goal && !boot.serial.contains("kmem: done"), "\(boot.serial.suffix(1500))")
    }
}

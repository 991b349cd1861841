import Foundation
import Testing

/// The kernel on several CPUs (issue 19): every CPU QEMU gives it comes up (`kmem: cpus N`),
/// then the workload runs on all of them, taking turns (kernel/README.md "Workload").
/// Serialized: each case runs up to 8 vCPU threads on a shared machine.
@Suite("Kernel on several CPUs in QEMU", .serialized)
struct SMPBootTests {
    static func lines(_ s: String) -> [String] { s.split(whereSeparator: \.isNewline).map(String.init) }

    @Test(arguments: [1, 2, 4, 8])
    func everyCPUComesUpThenTheWorkloadEndsClean(cpus: Int) throws {
        let r = try QEMUBoot.run(memory: "128M", append: "seed=3 ops=4000 phases=2 exit=1", cpus: cpus, deadline: 180)
        let lines = Self.lines(r.serial)
        #expect(r.status == 1, "self-check after the workload must pass:\n\(r.serial.suffix(3000))")
        #expect(lines.filter { $0.hasPrefix("kmem: cpus ") } == ["kmem: cpus \(cpus)"], "\(r.serial.prefix(2000))")
        #expect(lines.contains { $0.hasPrefix("kmem: smp: RSDP at ") && $0.contains(" lists \(cpus) CPU(s), boot CPU APIC ID 0") },
                "\(r.serial.prefix(2000))")
        // all CPUs are up before the allocator boots, and the run ends as on one CPU
        let cpusLine = try #require(lines.firstIndex { $0.hasPrefix("kmem: cpus ") })
        let ready = try #require(lines.firstIndex(of: "kmem: ready"))
        let done = try #require(lines.firstIndex { $0.hasPrefix("kmem: done seq ") })
        #expect(cpusLine < ready && ready < done)
        #expect(lines.filter { $0.hasPrefix("kmem: self-check: ok") }.count == 2)
        #expect(!r.serial.contains("did not start") && !r.serial.contains("kmem: BUG") && !r.serial.contains("EXCEPTION"))
    }

    /// The turns are the kernel's, not the host's: the same seed prints the same workload, byte
    /// for byte, on two boots of four CPUs, whether QEMU runs the vCPUs on one host thread or on
    /// one each; one CPU runs CPU 0's stream alone, so its run differs from four CPUs'.
    @Test func fourCPUsRepeatTheirWorkloadWhateverTheHostThreads() throws {
        let single = try QEMUBoot.run(memory: "128M", append: "seed=11 ops=6000 phases=2 exit=1", cpus: 4, deadline: 180)
        let multi = try QEMUBoot.run(memory: "128M", append: "seed=11 ops=6000 phases=2 exit=1", cpus: 4, multiThreaded: true, deadline: 300)
        let one = try QEMUBoot.run(memory: "128M", append: "seed=11 ops=6000 phases=2 exit=1", cpus: 1, deadline: 180)
        func workload(_ s: String) -> [String] { Self.lines(s).drop { !$0.hasPrefix("kmem: workload seed") }.map { $0 } }
        #expect(single.status == 1 && multi.status == 1 && one.status == 1, "\(multi.serial.suffix(2000))")
        #expect(workload(single.serial).count > 20)
        #expect(workload(single.serial).contains("kmem: workload on 4 CPUs taking turns of 16 operations"))
        #expect(workload(single.serial) == workload(multi.serial))
        #expect(workload(one.serial) != workload(single.serial))
        #expect(!workload(one.serial).contains { $0.hasPrefix("kmem: workload on ") })
    }

    /// The kernel's ticket lock (Embedded Swift, `Atomic<UInt32>` in place) on two CPUs that
    /// really race (two vCPU threads): no increment of the plain counter is lost and the lock
    /// ends free. Small K and two CPUs: more vCPUs than free host cores make a ticket lock convoy
    /// (kernel/README.md, Several CPUs).
    @Test func theTicketLockHoldsOnTwoCPUs() throws {
        let r = try QEMUBoot.run(memory: "128M", append: "locktest=2000 exit=1", cpus: 2, multiThreaded: true, deadline: 240)
        #expect(r.status == 1, "\(r.serial.suffix(2000))")
        let line = Self.lines(r.serial).first { $0.hasPrefix("kmem: smp: lock test:") }
        #expect(line?.hasPrefix("kmem: smp: lock test: 2 CPU(s) x 2000 rounds: counter 4000, lock free: ok, order digest 0x") == true,
                "\(r.serial.prefix(2000))")
    }

    /// More CPUs than the kernel has room for (KMEM_MAX_CPUS = 16): it says so, starts 16 and
    /// boots on.
    @Test func moreCPUsThanTheKernelTakes() throws {
        let r = try QEMUBoot.run(memory: "128M", append: "exit=1", cpus: 18, deadline: 180)
        #expect(r.status == 1, "\(r.serial.suffix(2000))")
        #expect(r.serial.contains(" lists 18 CPU(s)"), "\(r.serial.prefix(2000))")
        #expect(r.serial.contains("kmem: smp: only the first 16 are started (KMEM_MAX_CPUS)"))
        #expect(Self.lines(r.serial).contains("kmem: cpus 16"))
    }
}

import Foundation
import Testing

/// The debug-VM kernel (kernel/build/debug-vm/kernel.elf: every buddy step's order, alignment
/// and segment bounds checked, kernel/README.md "State moves") runs the workload the default
/// kernel runs, to the same end.
@Suite("Debug-VM kernel in QEMU")
struct DebugVMKernelTests {
    @Test func theDebugKernelRunsTheWorkloadWithItsChecksOn() throws {
        let append = "seed=3 ops=30000 phases=3 exit=1"
        let debug = try QEMUBoot.run(memory: "256M", append: append, deadline: 150, kernel: QEMUBoot.debugVMKernel)
        #expect(debug.serial.contains("kmem: debug-vm checks on"), "\(debug.serial.prefix(2000))")
        #expect(!debug.serial.contains("kmem: BUG"), "\(debug.serial.suffix(2000))")
        #expect(debug.status == 1, "self-check after the workload must pass:\n\(debug.serial.suffix(2000))")
        let check = try #require(WorkloadBootTests.finalSelfCheck(debug.serial), "\(debug.serial.suffix(2000))")
        #expect(check.sequence > 30000, "every operation ran: \(check.line)")
        // The default kernel compiles none of it. (Its image is smaller, so boot reserves
        // other frames and the same seed's run takes other blocks: the runs are not compared.)
        let plain = try QEMUBoot.run(memory: "256M", append: append, until: ["kmem: ready"], deadline: 60)
        #expect(plain.serial.contains("kmem: ready") && !plain.serial.contains("debug-vm"), "\(plain.serial.prefix(2000))")
    }
}

import Foundation
import QEMULauncher
import Testing

/// `kmemscope bisect` against the real kernel in real QEMU: for a sample of the kernel's fault
/// kinds it lands exactly on the sequence the kernel's fault line printed (all 13 kinds:
/// scripts/bisect-faults.sh); a clean run exits 0; usage errors exit 2 before any boot.
@Suite("kmemscope bisect")
struct BisectCommandTests {
    static let workload = "seed=3 ops=3000 phases=2"

    /// Boots `append` once through the launcher and returns the sequence of the kernel's
    /// `kmem: fault: injected KIND … seq N` line.
    static func faultSequence(_ append: String, kind: String) throws -> UInt64 {
        let qemu = try QEMUProcess.launch(QEMUConfiguration(kernel: DebugBoot.kernel, memory: try MemorySize(parsing: "128M"), append: append))
        defer { qemu.stop() }
        try qemu.waitForSerial([SerialMarkers.done, SerialMarkers.bug], timeout: 60)
        let line = try #require(qemu.serial.split(whereSeparator: \.isNewline).first { $0.hasPrefix("kmem: fault: injected \(kind) ") },
                                "\(qemu.serial.suffix(1000))")
        return try #require(UInt64(line.split(separator: " ").last!.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test(arguments: ["lost-block", "counter-drift", "slab-freelist"])
    func landsOnTheSequenceOfTheFaultLine(kind: String) throws {
        let append = "\(Self.workload) fault=\(kind)@2000"
        let seq = try Self.faultSequence(append, kind: kind)
        let r = try InfoCommandTests.kmemscope(["bisect", "--memory", "128M", "--append", append, "--elf", DebugBoot.kernel])
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        #expect(r.out.contains("bisect: verify fails first at seq \(seq), clean at seq "), "fault at \(seq):\n\(r.out)")
        // the operation as `kmemscope log` prints it, and what verify found
        #expect(r.out.contains("\n  seq \(seq) "), "\(r.out)")
        #expect(r.out.contains("what verify found at seq \(seq):\nverify: 20 checks over"), "\(r.out)")
        // every stop line names a boot; a clean stop runs on in the same boot, so fewer boots than stops
        let stops = r.out.split(separator: "\n").filter { $0.hasPrefix("seq ") && $0.contains(", boot ") }
        let boots = try #require(r.out.split(separator: "\n").first { $0.hasPrefix("bisect: ") }.flatMap { line in
            line.split(separator: "(").last?.split(separator: " ").first.flatMap { Int($0) } })
        #expect(boots >= 2 && boots < stops.count, "\(r.out)")
    }

    /// --lo and --hi bound the search: same answer, fewer stops.
    @Test func loAndHiBoundTheSearch() throws {
        let append = "\(Self.workload) fault=lost-block@2000"
        let seq = try Self.faultSequence(append, kind: "lost-block")
        let r = try InfoCommandTests.kmemscope(["bisect", "--memory", "128M", "--append", append, "--lo", "\(seq - 40)", "--hi", "\(seq + 40)",
                                                "--elf", DebugBoot.kernel])
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        #expect(r.out.contains("bisect: verify fails first at seq \(seq), clean at seq "), "\(r.out)")
        let stops = r.out.split(separator: "\n").filter { $0.hasPrefix("seq ") && $0.contains(", boot ") }
        #expect(stops.count <= 10, "\(r.out)")
        #expect(!r.out.contains("(end of the run)"), "\(r.out)")
    }

    @Test func aCleanRunExitsZero() throws {
        let r = try InfoCommandTests.kmemscope(["bisect", "--memory", "128M", "--append", Self.workload, "--elf", DebugBoot.kernel])
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        #expect(r.out.contains("(the end of the run): nothing to find (1 boot, "), "\(r.out)")
    }

    @Test func usageErrorsExitTwo() throws {
        for arguments in [["--memory", "128M", "--append", "seed=1"], ["--memory", "128M", "--append", Self.workload, "--lo", "9", "--hi", "5"],
                          ["--memory", "12Q", "--append", Self.workload]] {
            let r = try InfoCommandTests.kmemscope(["bisect"] + arguments + ["--elf", DebugBoot.kernel])
            #expect(r.status == 2, "\(arguments): \(r.out)\(r.err)")
        }
    }
}

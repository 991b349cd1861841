import Foundation
import QEMULauncher
import Testing

/// The workload on four CPUs taking turns (kernel/README.md "Workload", issue 19): the same
/// command line gives the same run on every boot, byte for byte, whichever CPU runs each
/// operation, so verify, replay, snapshots, watch and bisect work on it as on one CPU.
@Suite("Workload taking turns on four CPUs", .serialized)
struct SMPTurnsTests {
    static let workload = "seed=5 ops=20000 phases=4"

    /// The entries of `kmemscope log` and the CPU each names.
    static func cpus(_ log: String) -> [String] {
        log.split(separator: "\n").filter { $0.hasPrefix("seq ") }.compactMap { line in
            let words = line.split(separator: " ")
            return words.count > 3 && words[2] == "cpu" ? String(words[3]) : nil
        }
    }

    /// The serial lines from the workload's start to `kmem: done`.
    static func workloadLines(_ serial: String) -> [Substring] {
        let lines = serial.split(whereSeparator: \.isNewline)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("kmem: workload seed ") }) else { return [] }
        return Array(lines[start...].prefix { !$0.hasPrefix("kmem: done") })
    }

    @Test func twoBootsLeaveTheSameLogAndVerifyAndReplayPass() throws {
        var logs: [String] = []
        var serials: [[Substring]] = []
        for run in 1...2 {
            let boot = try DebugBoot(memory: "256M", append: Self.workload, cpus: 4)
            defer { boot.stop() }
            try boot.release(until: "kmem: done", timeout: 300)
            let serial = boot.serial
            #expect(serial.contains("kmem: workload on 4 CPUs taking turns of 16 operations"), "\(serial.suffix(2000))")
            for cpu in 0..<4 { #expect(serial.contains("kmem: workload: cpu \(cpu) ran "), "\(serial.suffix(2000))") }
            #expect(serial.contains("kmem: self-check: ok") && !serial.contains("kmem: BUG"), "\(serial.suffix(2000))")
            let target = ["--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel]
            let log = try InfoCommandTests.kmemscope(["log", "--last", "65536"] + target)
            #expect(log.status == 0, "\(log.err)")
            let cpus = Self.cpus(log.out)
            #expect(Set(cpus) == ["0", "1", "2", "3"], "every CPU ran operations")
            // the turns: 16 workload operations each (a few more entries with nested ones)
            var switches = 0
            for i in 1 ..< cpus.count where cpus[i] != cpus[i - 1] { switches += 1 }
            #expect(switches > 20000 / 16 / 2, "\(switches) hand-overs")
            if run == 1 {
                let verify = try InfoCommandTests.kmemscope(["verify"] + target)
                #expect(verify.status == 0 && verify.out.contains("all passed"), "\(verify.err)\n\(verify.out.prefix(2000))")
                let replay = try InfoCommandTests.kmemscope(["verify", "--replay"] + target)
                #expect(replay.status == 0, "\(replay.err)\n\(replay.out.prefix(2000))")
            }
            logs.append(log.out)
            serials.append(Self.workloadLines(serial))
        }
        #expect(logs[0] == logs[1], "two boots, one operation log")
        #expect(!serials[0].isEmpty && serials[0] == serials[1], "two boots, one serial output")
    }

    /// Two snapshots of one boot and one of another boot of the same command line, at the same
    /// sequence: every change between them is explained by the log, and the two boots agree.
    @Test func snapshotsOfTwoBootsAtOneSequenceDiffClean() throws {
        let directory = NSTemporaryDirectory() + "kmemscope-turns-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var files: [String] = []
        for (name, sequences) in [("a", [3000, 6000] as [UInt64]), ("b", [6000])] {
            let boot = try DebugBoot(memory: "128M", append: "seed=4 ops=20000 phases=2", cpus: 4)
            defer { boot.stop() }
            for (i, sequence) in sequences.enumerated() {
                if i == 0 { try boot.stopAt(sequence: sequence) } else { try boot.continueTo(sequence: sequence) }
                let file = "\(directory)/\(name)-\(sequence).snap"
                let r = try InfoCommandTests.kmemscope(["snapshot", "-o", file, "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
                #expect(r.status == 0, "\(r.out)\n\(r.err)")
                files.append(file)
            }
        }
        try #require(files.count == 3)
        var r = try InfoCommandTests.kmemscope(["diff", files[0], files[1], "--elf", DebugBoot.kernel])
        #expect(r.status == 0 && !r.out.contains("unexplained"), "\(r.out.prefix(3000))\n\(r.err)")
        r = try InfoCommandTests.kmemscope(["diff", files[1], files[2], "--elf", DebugBoot.kernel])
        #expect(r.status == 0 && !r.out.contains("unexplained"), "\(r.out.prefix(3000))\n\(r.err)")
        #expect(r.err.contains("of the same command line"), "\(r.err)")
        for file in files {
            let v = try InfoCommandTests.kmemscope(["verify", "--snapshot", file, "--elf", DebugBoot.kernel])
            #expect(v.status == 0, "\(v.out.prefix(2000))\n\(v.err)")
        }
        // the log from 3000 to 6000 replayed on the first snapshot, each entry on its CPU, gives the second
        r = try InfoCommandTests.kmemscope(["verify", "--snapshot", files[1], "--replay", "--from", files[0], "--elf", DebugBoot.kernel])
        #expect(r.status == 0, "\(r.out.prefix(2000))\n\(r.err)")
    }

    /// watch at the checkpoints of a four-CPU run: the fault (injected on whichever CPU ran the
    /// operation that reached its sequence) is caught at the first checkpoint after it.
    @Test func watchCatchesAFaultAtTheNextCheckpoint() throws {
        let boot = try DebugBoot(memory: "128M", append: "seed=3 ops=20000 phases=10 fault=counter-drift@9000", cpus: 4)
        defer { boot.stop() }
        try boot.stopAt(sequence: 100)
        let r = try InfoCommandTests.kmemscope(["watch", "--stops", "12", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        let (clean, failing) = try WatchCheckpointTests.window(r.out)
        let fault = try #require(boot.serial.split(whereSeparator: \.isNewline).first { $0.hasPrefix("kmem: fault: injected counter-drift") })
        let faultSeq = try #require(UInt64(fault.split(separator: " ").last!.trimmingCharacters(in: .whitespaces)))
        #expect(clean < faultSeq && failing >= faultSeq, "\(clean) < \(faultSeq) ≤ \(failing)\n\(r.out)")
        #expect(r.out.contains("counters"), "\(r.out)")
    }

    /// A CPU that stops taking its turn (`turnstall=2`: AP 2 parks at its first turn) is
    /// reported by the CPU next in line, once, with BUG kind 8; every other CPU halts quietly,
    /// and the toolkit reads the post-mortem.
    @Test func aCPUThatStopsTakingItsTurnIsABug() throws {
        let boot = try DebugBoot(memory: "128M", append: "turnstall=2 seed=3 ops=3000 phases=2", cpus: 4)
        defer { boot.stop() }
        try boot.release(until: "kmem: BUG", timeout: 120)
        usleep(500_000)
        let bugs = boot.serial.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("kmem: BUG") }
        #expect(bugs.count == 1 && bugs.first?.hasPrefix("kmem: BUG: cpu 3 waited 16777216 spins for cpu 2 to end its turn at seq ") == true,
                "\(boot.serial.suffix(1500))")
        let target = ["--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel]
        let verify = try InfoCommandTests.kmemscope(["verify"] + target)
        #expect(verify.status == 1, "\(verify.out.prefix(1500))\n\(verify.err)")
        #expect(verify.out.contains("it stopped at its own BUG (workload turn): cpu 3 waited"), "\(verify.out.prefix(1500))")
        #expect(verify.out.contains("the CPU is halted in kmem_bug_halt"), "\(verify.out.prefix(1500))")
        let info = try InfoCommandTests.kmemscope(["info"] + target)
        #expect(info.out.contains("2 parked (APIC 2)"), "\(info.out)")
        // the turn word still names the CPU that stopped taking its turn
        #expect(info.out.contains("now: CPUs take turns, cpu 2's turn; "), "\(info.out)")
    }

    /// bisect on a four-CPU run lands on the sequence of the kernel's fault line: each boot it
    /// makes repeats the run to the operation.
    @Test func bisectLandsOnTheFaultSequence() throws {
        let append = "seed=3 ops=3000 phases=2 fault=lost-block@2000"
        let qemu = try QEMUProcess.launch(QEMUConfiguration(kernel: DebugBoot.kernel, memory: try MemorySize(parsing: "128M"),
                                                            append: append, cpus: 4))
        defer { qemu.stop() }
        try qemu.waitForSerial([SerialMarkers.done, SerialMarkers.bug], timeout: 120)
        let line = try #require(qemu.serial.split(whereSeparator: \.isNewline).first { $0.hasPrefix("kmem: fault: injected lost-block ") },
                                "\(qemu.serial.suffix(1000))")
        let seq = try #require(UInt64(line.split(separator: " ").last!.trimmingCharacters(in: .whitespacesAndNewlines)))
        let r = try InfoCommandTests.kmemscope(["bisect", "--smp", "4", "--memory", "128M", "--append", append, "--elf", DebugBoot.kernel])
        #expect(r.status == 1, "\(r.out)\n\(r.err)")
        #expect(r.out.contains("bisect: verify fails first at seq \(seq), clean at seq "), "fault at \(seq):\n\(r.out)")
        #expect(r.out.contains("\n  seq \(seq) "), "\(r.out)")
    }
}

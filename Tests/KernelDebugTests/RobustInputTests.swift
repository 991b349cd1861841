import Foundation
import Glibc
import KernelLayouts
import Testing

/// No input traps kmemscope (issue 24): every command's numbers at their extremes, against a
/// snapshot of the real kernel and against the real guest, end in an answer or a usage error
/// (exit 0, 1 or 2) — never a runtime trap (a signal: 132 SIGILL, 133 SIGTRAP…). kmemscope runs
/// as a subprocess, so a trap is seen, not suffered by the test runner.
@Suite("No input traps kmemscope", .serialized)
struct RobustInputTests {
    /// 0, max, max-1, negative, huge: as decimal and hex, signed and unsigned limits.
    static let extremes = CommandTreeFuzz.full
        ? ["0", "1", "-1", "64", "4294967296", "9223372036854775807", "9223372036854775808",
           "18446744073709551614", "18446744073709551615", "0xffffffffffffffff", "0x8000000000000000",
           "-9223372036854775808", "99999999999999999999999"]
        : ["0", "1", "-1", "18446744073709551615", "0x8000000000000000", "99999999999999999999999"]

    struct Run {
        var reason: Process.TerminationReason
        var status: Int32
        var out: String
        var err: String
        var trapped: Bool { reason == .uncaughtSignal || status >= 128 }
    }

    /// Runs kmemscope with `arguments` (and `input` on standard input).
    /// `directory` is the working directory (where a relative output path lands).
    static func run(_ arguments: [String], input: String = "", directory: URL = DebugBoot.root) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: InfoCommandTests.binary)
        p.arguments = arguments
        p.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        p.environment = environment
        // output to files: both streams are read after exit, with no pipe to fill up
        let base = NSTemporaryDirectory() + "kmemscope-run-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer { unlink(base + ".out"); unlink(base + ".err") }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        let stdin = Pipe()
        p.standardInput = stdin
        p.standardOutput = out
        p.standardError = err
        try p.run()
        try out.close()
        try err.close()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        p.waitUntilExit()
        return Run(reason: p.terminationReason, status: p.terminationStatus,
                   out: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
                   err: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "")
    }

    /// Combinations the tree pass does not make (it gives every other argument a plain valid
    /// value): `%V` is replaced by each extreme value.
    static func templates(snapshot: String, scratch: String) -> [[String]] {
        [["frame", "%V", "64"], ["frame", "--address", "%V", "64"], ["freelist", "DMA32", "%V", "Movable"],
         ["dump", "%V", "4096", "-o", scratch, "--force"], ["diff", snapshot, snapshot, "--limit", "%V", "--operations", "%V"]]
    }

    /// Boots the kernel through a workload longer than its log ring (65536 entries), saves a
    /// snapshot, and runs every argument of every command (``CommandTreeFuzz``) against the
    /// snapshot, then reads and run control against the guest and the console.
    @Test func extremeValuesInEveryCommandNeverTrap() throws {
        let boot = try DebugBoot(memory: "256M", append: "seed=3 ops=70000 phases=2")
        defer { boot.stop() }
        try boot.runUntil(["kmem: done"], timeout: 300)
        let snapshot = boot.directory + "/state.kms", scratch = boot.directory + "/scratch"
        let taken = try Self.run(["snapshot", "-o", snapshot, "--target", "unix:" + boot.socket])
        try #require(taken.status == 0, "\(taken.err)")
        // files that are not what a path option wants: none, empty, a directory, an ELF that is
        // not the kernel, a snapshot cut short
        let truncated = boot.directory + "/truncated.kms"
        try Data(try Data(contentsOf: URL(fileURLWithPath: snapshot)).prefix(4096)).write(to: URL(fileURLWithPath: truncated))
        let paths = CommandTreeFuzz.full ? [boot.directory + "/no/such/file", "/dev/null", "/", "/bin/true", truncated]
                                         : [boot.directory + "/no/such/file", "/bin/true", truncated]

        // The detector sees a trap: a run of the debug build made to trap on purpose is one.
        let dying = try GuestGuardTests.dying("mid-read", ["zones", "--target", "unix:" + boot.socket])
        #expect(CommandTreeFuzz.fault(Run(reason: dying.reason, status: dying.status, out: "", err: dying.err)) != nil, "\(dying)")

        let tree = try CommandTreeFuzz(binary: InfoCommandTests.binary)
        #expect(tree.commands.count >= 24, "\(tree.commands.map(\.name))")
        var lines = try tree.lines(snapshot: snapshot, elf: DebugBoot.kernel, scratch: scratch, directory: boot.directory, paths: paths)
        for template in Self.templates(snapshot: snapshot, scratch: scratch) {
            for value in Self.extremes {
                var arguments = template.map { $0.replacingOccurrences(of: "%V", with: value) }
                if template[0] != "diff" { arguments.insert(contentsOf: ["--snapshot", snapshot], at: 1) }
                lines.append(arguments)
            }
        }
        // every command and every argument that takes a value is in the pass
        let fuzzed = Set(lines.map { $0[0] })
        for (command, arguments) in tree.commands where arguments.contains(where: { $0.kind != "flag" }) {
            #expect(fuzzed.contains(command), "kmemscope \(command) is not fuzzed")
        }
        let started = ContinuousClock.now
        let pass = CommandTreeFuzz.runAll(lines, workers: 6, directory: boot.directory)
        print("command tree pass: \(lines.count) runs, \(pass.answered) answered, \(ContinuousClock.now - started)")
        #expect(pass.faults.isEmpty, "\(pass.faults.count) of \(lines.count) runs failed:\n\(pass.faults.prefix(40).joined(separator: "\n"))")
        #expect(lines.count > (CommandTreeFuzz.full ? 700 : 350), "\(lines.count) runs")
        #expect(pass.answered > (CommandTreeFuzz.full ? 80 : 40), "only \(pass.answered) of \(lines.count) runs got past argument checking to a lookup")
        // nothing was written into the checkout; boot never started a QEMU on a bad image
        #expect(!FileManager.default.fileExists(atPath: DebugBoot.root.appendingPathComponent("0").path), "an output landed in the checkout")
        #expect(!FileManager.default.fileExists(atPath: boot.directory + "/boot/qemu.pid"), "boot launched QEMU during the pass")

        var runs = 0, answered = 0
        var traps: [String] = []
        func check(_ arguments: [String], input: String = "") throws {
            let r = try Self.run(arguments, input: input, directory: URL(fileURLWithPath: boot.directory))
            runs += 1
            if r.status == 0 || r.status == 1 { answered += 1 }
            if r.trapped || ![0, 1, 2].contains(r.status) {
                traps.append("kmemscope \(arguments.joined(separator: " ")) → \(r.reason) \(r.status): \(r.err.prefix(300))")
            }
        }
        // against the guest itself (stopped at the end of its workload): reads, and the run control
        let live = ["--target", "unix:" + boot.socket]
        for template in [["frame", "V"], ["kmem", "V"], ["log", "--last", "V"], ["info", "--timeout", "V"],
                         ["watch", "--every", "V", "--stops", "1", "--wait", "1"], ["watch", "--every", "100", "--stops", "V", "--wait", "1"],
                         ["watch", "--every", "100", "--stops", "1", "--wait", "V"]] {
            for value in Self.extremes {
                try check(template.map { $0 == "V" ? value : $0 } + live)
            }
        }
        // the console: the same numbers in its own commands and in views inside it
        let console = Self.extremes.flatMap { v in ["frame \(v)", "until \(v) 1", "next-checkpoint \(v)", "log --last \(v)", "freelist DMA32 0 \(v)"] }
        try check(["attach"] + live, input: console.joined(separator: "\n") + "\nquit\n")
        // and every line of the tree pass that reads the snapshot, typed into a console on it
        // (three of the values each: a console runs its lines one after the other)
        let typed = lines.filter { line in
            line.contains(snapshot) && line[0] != "attach" && line[0] != "diff"
                && ["-1", "18446744073709551615", "abc"].contains { v in line.contains { $0 == v || $0.hasSuffix("=" + v) } }
        }.map { line in
            line.enumerated().filter { i, word in word != snapshot && !(word == "--snapshot" && line.indices.contains(i + 1) && line[i + 1] == snapshot) }
                .map(\.element).joined(separator: " ")
        }
        let typing = ContinuousClock.now
        try check(["attach", "--snapshot", snapshot], input: (console + typed).joined(separator: "\n") + "\nquit\n")
        print("console: \(console.count + typed.count) lines, \(ContinuousClock.now - typing)")
        #expect(!FileManager.default.fileExists(atPath: DebugBoot.root.appendingPathComponent("0").path), "an output landed in the checkout")
        #expect(traps.isEmpty, "\(traps.count) of \(runs) runs trapped:\n\(traps.joined(separator: "\n"))")
        #expect(runs > (CommandTreeFuzz.full ? 90 : 35), "\(runs) runs")
        #expect(answered > (CommandTreeFuzz.full ? 10 : 5), "only \(answered) of \(runs) runs got past argument checking to a lookup")

        // what a user of the snapshot sees for the issue's own examples
        let frame = try Self.run(["frame", "0xffffffffffffffff", "--snapshot", snapshot])
        #expect(frame.status == 2 && frame.err.contains("PFN 0xffffffffffffffff is out of range") && frame.err.contains("0xffffffffff"), "\(frame.err)")
        // verify --replay --json over a ring that has wrapped: no verdict, said so in the JSON
        let replay = try Self.run(["verify", "--replay", "--json", "--snapshot", snapshot])
        #expect(replay.status == 2, "\(replay.err)")
        let json = try JSONSerialization.jsonObject(with: Data(replay.out.utf8)) as? [String: Any]
        #expect(json?["verdict"] as? String == "no verdict", "\(replay.out.prefix(400))")
        #expect(json?["passed"] == nil, "a run with no verdict must not say passed: false")
        #expect((json?["replay"] as? [String: Any])?["verdict"] as? String == "no verdict")
        // info --json carries schemaVersion as the other documents do
        let info = try Self.run(["info", "--json", "--snapshot", snapshot])
        let infoJSON = try JSONSerialization.jsonObject(with: Data(info.out.utf8)) as? [String: Any]
        #expect((infoJSON?["schemaVersion"] as? NSNumber)?.intValue == 1, "\(info.out.prefix(300))")
        // frame names the migratetype as pagetypeinfo does; freelist lists only the migratetypes in use
        let free = try Self.run(["freelist", "DMA32", "0", "--snapshot", snapshot])
        #expect(free.status == 0 && free.out.contains("Unmovable order 0") && free.out.contains("Movable order 0"), "\(free.out)")
        #expect(!free.out.contains("slot "), "unused migratetype slots listed:\n\(free.out)")
        let pagetypes = try Self.run(["pagetypeinfo", "--snapshot", snapshot])
        let block = try #require(free.out.split(separator: "\n").dropFirst().first { $0.hasPrefix("  0x") }?.split(separator: " ").first)
        let shown = try Self.run(["frame", String(block), "--snapshot", snapshot])
        let named = try #require(["Unmovable", "Movable"].first { shown.out.contains("migratetype \($0) ") }, Comment(rawValue: shown.out))
        #expect(pagetypes.out.contains("type " + String(repeating: " ", count: max(0, 12 - named.count)) + named), "\(pagetypes.out)")
    }

    /// snapshot, report and dump refuse an output path they could not write before they connect:
    /// the stub address here does not exist, so an answer about the path proves the order.
    @Test func outputPathsAreCheckedBeforeTheGuestIsTouched() throws {
        let directory = NSTemporaryDirectory() + "kmemscope-robust-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let existing = directory + "/existing"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: existing))
        let nowhere = ["--target", "unix:" + directory + "/no-such.sock"]
        let commands = [["snapshot"], ["report"], ["dump", "0xffff888000000000", "16"]]
        for command in commands {
            let exists = try Self.run(command + ["-o", existing] + nowhere)
            #expect(exists.status == 2 && exists.err.contains("\(existing) exists: give --force"), "\(command): \(exists.err)")
            let missingDirectory = try Self.run(command + ["-o", directory + "/no/such/dir/out"] + nowhere)
            #expect(missingDirectory.status == 2 && missingDirectory.err.contains("No such file or directory"), "\(command): \(missingDirectory.err)")
            // a directory no one may create files in (also as root): /proc
            let unwritable = try Self.run(command + ["-o", "/proc/kmemscope-out"] + nowhere)
            #expect(unwritable.status == 2 && unwritable.err.contains("cannot write /proc/kmemscope-out"), "\(command): \(unwritable.err)")
            let aDirectory = try Self.run(command + ["-o", directory, "--force"] + nowhere)
            #expect(aDirectory.status == 2 && aDirectory.err.contains("Is a directory"), "\(command): \(aDirectory.err)")
            // with --force and a writable path, the command goes on to connect (and fails there)
            let forced = try Self.run(command + ["-o", existing, "--force"] + nowhere)
            #expect(forced.status == 2 && forced.err.contains("cannot connect"), "\(command): \(forced.err)")
        }
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "keep", "the existing file was changed")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["existing"], "a check left a file behind")
    }

    /// An ELF that is not the kmemscope kernel is named as such, before connecting.
    @Test func anELFThatIsNotTheKernelIsSaidToBeOne() throws {
        let elf = "/bin/true"   // any ELF without kmem_info (small: the image is opened in full)
        let r = try Self.run(["info", "--elf", elf, "--target", "unix:/nonexistent/kmemscope.sock"])
        #expect(r.status == 2, "\(r.err)")
        #expect(r.err.contains("\(elf) is not the kmemscope kernel"), "\(r.err)")
        #expect(!r.err.contains("no symbol 'kmem_info'"), "\(r.err)")
        // boot and bisect, which start QEMU on the image, refuse it before QEMU starts
        let directory = NSTemporaryDirectory() + "kmemscope-notkernel-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for command in [["boot", "--run-directory", directory], ["bisect", "--memory", "64M", "--append", "seed=1 ops=100"]] {
            let b = try Self.run(command + ["--elf", elf])
            #expect(b.status == 2 && b.err.contains("\(elf) is not the kmemscope kernel"), "\(command[0]): \(b.err)")
            #expect(!FileManager.default.fileExists(atPath: directory + "/qemu.pid"), "\(command[0]) started QEMU on \(elf)")
        }
    }

    /// The DWARF reader on hostile input: a C fixture with Linux's mm structs (the Linux tests'
    /// own) compiled with DWARF, then bytes of its `.debug_info` and `.debug_abbrev` overwritten at
    /// random (seeded, so a failure can be replayed); `layout` reads every struct asked for and
    /// `--kernel linux --symbols` takes the file as a vmlinux. An answer or an error, never a trap.
    @Test func mangledDWARFNeverTraps() throws {
        let fixture = DebugBoot.root.appendingPathComponent("Tests/LinuxGuestTests/Fixtures/linux-mm-types.c").path
        let directory = NSTemporaryDirectory() + "kmemscope-dwarf-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let elf = directory + "/types.so"
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/bin/sh")
        cc.arguments = ["-c", "clang -g -O0 -fPIC -shared -nostdlib \"$0\" -o \"$1\"", fixture, elf]
        try cc.run()
        cc.waitUntilExit()
        try #require(cc.terminationStatus == 0, "clang could not build the DWARF fixture")
        let clean = try Self.run(["layout", "page", "zone", "free_area", "--elf", elf])
        #expect(clean.status == 0, "the unmangled fixture: \(clean.err)")
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: elf)))
        let image = try ElfFile(path: elf)
        let sections = [".debug_info", ".debug_abbrev"].compactMap { image.section(named: $0) }.filter { $0.size > 0 }
        try #require(sections.count == 2, "the fixture has no .debug_info/.debug_abbrev")
        var generator = DWARFFuzzGenerator(seed: 24)
        var traps: [String] = []
        let mangled = directory + "/mangled.so"
        let interesting: [UInt8] = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe]
        for round in 0..<120 {
            var bytes = original
            for _ in 0..<(1 + round % 8) {
                let section = sections[Int.random(in: 0..<sections.count, using: &generator)]
                let at = Int(section.fileOffset) + Int.random(in: 0..<Int(section.size), using: &generator)
                bytes[at] = Bool.random(using: &generator) ? interesting.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            try Data(bytes).write(to: URL(fileURLWithPath: mangled))
            for arguments in [["layout", "page", "zone", "free_area", "pglist_data", "--elf", mangled],
                              ["buddyinfo", "--kernel", "linux", "--symbols", mangled, "--target", "unix:" + directory + "/none.sock"]] {
                let r = try Self.run(arguments)
                if r.trapped || ![0, 1, 2].contains(r.status) {
                    try? FileManager.default.copyItem(atPath: mangled, toPath: directory + "/trap-\(round).so")
                    traps.append("round \(round): kmemscope \(arguments.first!) → \(r.reason) \(r.status): \(r.err.prefix(300))")
                }
            }
        }
        #expect(traps.isEmpty, "\(traps.joined(separator: "\n"))")
    }
}

/// SplitMix64: a seeded generator, so a mangled file that trapped can be made again.
struct DWARFFuzzGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

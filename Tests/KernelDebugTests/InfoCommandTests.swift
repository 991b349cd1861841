import Foundation
import KernelLayouts
import Testing

/// `kmemscope info` end to end: the real binary, the real kernel, QEMU's real gdbstub.
@Suite("kmemscope info")
struct InfoCommandTests {
    static let binary = DebugBoot.root.appendingPathComponent(".build/debug/kmemscope").path

    /// Runs kmemscope with `arguments`; returns exit status, stdout and stderr.
    static func kmemscope(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw DebugBootError("no kmemscope at \(binary): run `swift build` first")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        p.currentDirectoryURL = DebugBoot.root
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func withRunningGuest(_ body: (String) throws -> Void) throws {
        let boot = try DebugBoot(append: "seed=1 ops=2000 phases=2")
        defer { boot.stop() }
        try boot.runUntil()
        #expect(boot.serial.contains("kmem: done"))
        try body("unix:" + boot.socket)
    }

    @Test func summarisesAndChecksTheRunningGuest() throws {
        try withRunningGuest { target in
            let r = try Self.kmemscope(["info", "--target", target, "--elf", DebugBoot.kernel])
            #expect(r.status == 0, "\(r.err)")
            #expect(r.out.contains("matches \(DebugBoot.kernel)"))
            #expect(r.out.contains("measured sizes and offsets agree with DWARF"), "\(r.out)")
            // every field the guest publishes was cross-checked against the ELF (142 on 2026-12-04)
            let cross = r.out.split(separator: "\n").first { $0.hasPrefix("kmem_info: ") && $0.hasSuffix("fields cross-checked against the ELF") }
            let counts = cross?.split(separator: " ").compactMap { Int($0) } ?? []
            #expect(counts.count == 2 && counts[0] == counts[1] && counts[0] >= 142, "\(r.out)")
            let seq = r.out.split(separator: "\n").first { $0.hasPrefix("operation log") }?.split(separator: " ").last
            #expect(UInt64(seq ?? "") ?? 0 > 2000)
            let j = try Self.kmemscope(["info", "--target", target, "--elf", DebugBoot.kernel, "--json"])
            let object = try JSONSerialization.jsonObject(with: Data(j.out.utf8)) as? [String: Any]
            #expect(object?["pageSize"] as? Int == 4096)
        }
    }

    /// A copy of the kernel ELF with one byte of its build-id changed: "another build".
    static func otherBuild() throws -> String {
        let image = try KernelImage(path: DebugBoot.kernel)
        let id = try #require(image.elf.buildID).bytes
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: DebugBoot.kernel)))
        let at = try #require((0...(bytes.count - id.count)).first { bytes[$0..<($0 + id.count)].elementsEqual(id) })
        bytes[at] ^= 0xFF
        let other = NSTemporaryDirectory() + "kmemscope-other-\(getpid())-\(UInt32.random(in: 0 ... .max)).elf"
        try Data(bytes).write(to: URL(fileURLWithPath: other))
        return other
    }

    @Test func refusesAnELFWithAnotherBuildID() throws {
        let other = try Self.otherBuild()
        defer { try? FileManager.default.removeItem(atPath: other) }
        try withRunningGuest { target in
            let r = try Self.kmemscope(["info", "--target", target, "--elf", other])
            #expect(r.status == 2)
            #expect(r.err.contains("build-id mismatch"), "\(r.err)")
        }
    }

    @Test func clearErrorsForBadInput() throws {
        // nothing listening: exit 2, one line that says what to do
        let refused = try Self.kmemscope(["info", "--target", "127.0.0.1:1", "--elf", DebugBoot.kernel])
        #expect(refused.status == 2)
        #expect(refused.err == "kmemscope: cannot connect to 127.0.0.1:1: connection refused — is QEMU running with -gdb tcp:127.0.0.1:1?\n", "\(refused.err)")
        // QEMU's own spelling is accepted
        let qemuSpelling = try Self.kmemscope(["info", "--target", "tcp:127.0.0.1:1", "--elf", DebugBoot.kernel])
        #expect(qemuSpelling.status == 2 && qemuSpelling.err.contains("connection refused"), "\(qemuSpelling.err)")
        // malformed addresses: usage errors, exit 2 (not ArgumentParser's 64)
        for (target, reason) in [("nowhere", "no :PORT"), ("unix:", "needs the socket's path"),
                                 ("http://x", "URL"), ("[::1", "both brackets")] {
            let bad = try Self.kmemscope(["verify", "--target", target, "--elf", DebugBoot.kernel])
            #expect(bad.status == 2, "\(target): \(bad.err)")
            #expect(bad.err.contains(reason), "\(target): \(bad.err)")
        }
        // a socket file that does not exist
        let missing = try Self.kmemscope(["zones", "--target", "unix:/nonexistent/gdb.sock", "--elf", DebugBoot.kernel])
        #expect(missing.status == 2 && missing.err.contains("no such file"), "\(missing.err)")
        // contradicting options
        let both = try Self.kmemscope(["info", "--resume", "--leave-stopped", "--elf", DebugBoot.kernel])
        #expect(both.status == 2 && both.err.contains("contradict"), "\(both.err)")
        // ELF: missing, not an ELF, truncated, stripped of symbols
        let dir = NSTemporaryDirectory() + "kmemscope-elf-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let notELF = dir + "/notes.txt", truncated = dir + "/truncated.elf", stripped = dir + "/stripped.elf"
        try Data("not an ELF at all\n".utf8).write(to: URL(fileURLWithPath: notELF))
        let whole = try Data(contentsOf: URL(fileURLWithPath: DebugBoot.kernel))
        try whole.prefix(whole.count / 3).write(to: URL(fileURLWithPath: truncated))
        let strip = Process()
        strip.executableURL = URL(fileURLWithPath: "/opt/swift/usr/bin/llvm-objcopy")
        strip.arguments = ["--strip-all", DebugBoot.kernel, stripped]
        try strip.run()
        strip.waitUntilExit()
        for (elf, reason) in [(dir + "/absent.elf", "no such file"), (notELF, "not an ELF"),
                              (truncated, "truncated"), (stripped, "symbol")] {
            for command in ["info", "verify", "sym"] {
                let args = command == "sym" ? ["sym", "kmem_info", "--elf", elf] : [command, "--target", "127.0.0.1:1", "--elf", elf]
                let r = try Self.kmemscope(args)
                #expect(r.status == 2, "\(command) \(elf): \(r.err)")
                #expect(r.err.contains(reason), "\(command) \(elf): \(r.err)")
                #expect(r.err.split(separator: "\n").count == 1, "one line: \(r.err)")
            }
        }
    }

    @Test func theBundledKernelIsFoundFromAnywhere() throws {
        // Run from / : no kernel/build/kernel.elf there, so it is found next to the executable.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["sym", "kmem_info"]
        p.currentDirectoryURL = URL(fileURLWithPath: "/")
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(o.contains("kmem_info"), "\(o)")
        // A copy of the executable with no checkout around it says where it looked.
        let dir = NSTemporaryDirectory() + "kmemscope-lone-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: Self.binary, toPath: dir + "/kmemscope")
        let q = Process()
        q.executableURL = URL(fileURLWithPath: dir + "/kmemscope")
        q.arguments = ["sym", "kmem_info"]
        q.currentDirectoryURL = URL(fileURLWithPath: dir)
        let err = Pipe()
        q.standardOutput = FileHandle.nullDevice
        q.standardError = err
        try q.run()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        q.waitUntilExit()
        #expect(q.terminationStatus == 2)
        #expect(e.contains("looked for kernel/build/kernel.elf in: \(dir)") && e.contains("--elf"), "\(e)")
    }

    @Test func aGuestThatHasNotBootedIsNamedAsSuch() throws {
        let boot = try DebugBoot(append: "")   // halted at reset: no kernel in memory yet
        defer { boot.stop() }
        boot.target.close()
        let r = try Self.kmemscope(["info", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 2)
        #expect(r.err.contains("has not booted this kernel yet"), "\(r.err)")
    }
}

/// `kmemscope zones` end to end: buddyinfo decoded from guest memory equals what the kernel
/// printed by walking its own lists at its last checkpoint.
@Suite("kmemscope zones")
struct ZonesCommandTests {
    @Test func buddyinfoFromGuestMemoryMatchesTheKernel() throws {
        let boot = try DebugBoot(memory: "1G", append: "seed=4 ops=5000 phases=2")
        defer { boot.stop() }
        try boot.runUntil()
        let r = try InfoCommandTests.kmemscope(["zones", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 0, "\(r.err)")
        func buddyLines(_ s: Substring) -> [String] {
            // Linux's /proc/buddyinfo ends each number with a space; the kernel's serial lines do not
            s.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("Node 0, zone") }
                .map { String($0.reversed().drop { $0 == " " }.reversed()) }
        }
        // the kernel's last checkpoint; nothing allocates after it
        let serial = boot.serial
        let last = try #require(serial.range(of: "kmem: checkpoint phase 2", options: .backwards))
        let kernel = buddyLines(serial[last.upperBound...])
        #expect(kernel.count == 2)
        #expect(buddyLines(r.out[...]) == kernel, "\(r.out)")
        let seq = serial.split(whereSeparator: \.isNewline).first { $0.hasPrefix("kmem: done seq ") }?.split(separator: " ").last
        #expect(r.out.hasPrefix("sequence \(seq ?? "?")"))
    }
}

/// `kmemscope log`: the operation log read from guest memory ends at the kernel's sequence.
@Suite("kmemscope log")
struct LogCommandTests {
    @Test func lastOperationsEndAtTheKernelsSequence() throws {
        let boot = try DebugBoot(append: "seed=5 ops=3000 phases=1")
        defer { boot.stop() }
        try boot.runUntil()
        let done = try #require(boot.serial.split(whereSeparator: \.isNewline).first { $0.hasPrefix("kmem: done seq ") })
        let last = try #require(UInt64(done.split(separator: " ").last!))
        let r = try InfoCommandTests.kmemscope(["log", "--last", "12", "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 12)
        #expect(lines.map { UInt64($0.split(separator: " ")[1]) ?? 0 } == Array((last - 11)...last))
        let kinds: Set<String> = ["allocate", "free", "allocate-frame", "reserve", "kmalloc", "kfree", "drain-pcp",
                                  "quarantine", "get", "put", "allocate-count", "free-count", "unreserve"]
        // seq N cpu C KIND …: every entry names the CPU that ran it (the boot CPU here)
        #expect(lines.allSatisfy { $0.split(separator: " ")[2] == "cpu" && $0.split(separator: " ")[3] == "0" }, "\(r.out)")
        #expect(lines.allSatisfy { kinds.contains(String($0.split(separator: " ")[4])) }, "\(r.out)")
        #expect(lines.allSatisfy { $0.contains(" ok") || $0.contains(" failed") })
    }
}

/// The /proc views against the kernel's own report at its last checkpoint (buddyinfo and
/// slabinfo, counted by the kernel walking its own structures).
@Suite("kmemscope /proc views")
struct ProcViewCommandTests {
    @Test func buddyinfoAndSlabinfoMatchTheKernel() throws {
        let boot = try DebugBoot(memory: "1G", append: "seed=4 ops=5000 phases=2")
        defer { boot.stop() }
        try boot.runUntil()
        let report = try boot.report(afterCheckpoint: 2)
        let target = ["--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel]

        let buddy = try InfoCommandTests.kmemscope(["buddyinfo"] + target)
        #expect(buddy.status == 0, "\(buddy.err)")
        // Linux's layout: `%6lu ` per order, so each line ends with a space
        #expect(buddy.out.split(separator: "\n").allSatisfy { $0.hasPrefix("Node 0, zone ") && $0.hasSuffix(" ") })
        let kernelBuddy = report.filter { $0.hasPrefix("Node 0, zone") }
        #expect(buddy.out.split(separator: "\n").map { String($0.dropLast()) } == kernelBuddy, "\(buddy.out)")

        let slab = try InfoCommandTests.kmemscope(["slabinfo"] + target)
        #expect(slab.status == 0, "\(slab.err)")
        let ours = slab.out.split(separator: "\n").map(String.init)
        #expect(ours.first == "slabinfo - version: 2.1")
        // name, active objects, objects, object size, objects per slab, and slabs agree
        for line in report where line.hasPrefix("slabinfo: kmalloc-") {
            let k = line.split(separator: " ").dropFirst().map(String.init)   // name active num size perslab 1 : slabdata a n
            let mine = try #require(ours.first { $0.hasPrefix(k[0] + " ") }?.split(separator: " ").map(String.init), "\(k[0]) missing:\n\(slab.out)")
            #expect(Array(mine[0...4]) == Array(k[0...4]), "\(line) vs \(mine)")
            #expect(mine[mine.count - 3] == k[k.count - 1], "slabs: \(line) vs \(mine)")
        }

        for view in ["pagetypeinfo", "zoneinfo"] {
            let r = try InfoCommandTests.kmemscope([view] + target)
            #expect(r.status == 0, "\(view): \(r.err)")
        }
        let pti = try InfoCommandTests.kmemscope(["pagetypeinfo"] + target)
        #expect(pti.out.hasPrefix("Page block order: 9\nPages per block:  512\n"))
        let json = try InfoCommandTests.kmemscope(["buddyinfo", "--json"] + target)
        #expect(json.out.contains("\"schemaVersion\" : 1"))
    }
}

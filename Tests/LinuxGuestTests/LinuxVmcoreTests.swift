import Foundation
import Testing
import GDBRemote

/// `--vmcore FILE` (issue 18, offline): a Debian 6.1 guest is stopped through the stub, QEMU
/// dumps it with its monitor's `dump-guest-memory` (an ELF core, and `-z`: kdump-compressed in
/// makedumpfile's flattened format), and every Linux view and verify read from each file is
/// byte-equal to the same view read live from the same stopped guest. A symbol map of another
/// build, a truncated dump, a file of another kind and a run-control command are refused, exit 2.
@Suite(.serialized, .enabled(if: LinuxGuest.isAvailable,
                             "Debian's linux-image-amd64 / busybox-static could not be fetched with apt-get download"))
struct LinuxVmcoreTests {
    /// kmemscope's standard output and exit status (stderr apart, returned too).
    static func run(_ arguments: [String]) -> (status: Int32, output: String, errors: String) {
        let errors = NSTemporaryDirectory() + "kmemscope-vmcore-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).err"
        defer { unlink(errors) }
        let (status, output) = LinuxGuest.run(["-c", "exec \"$0\" \"$@\" 2>\"$ERRFILE\"".replacingOccurrences(of: "$ERRFILE", with: errors), LinuxVerifyTests.binary] + arguments)
        let text = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        return (status, output, text)
    }

    @Test func everyViewFromBothDumpsEqualsTheStoppedGuest() throws {
        try #require(FileManager.default.isExecutableFile(atPath: LinuxVerifyTests.binary), "swift build --product kmemscope first")
        let start = Date()
        let guest = try LinuxGuest.boot()
        defer { guest.stop() }
        try guest.waitUntilReady()
        let live = try guest.kmemscopeArguments()
        let offline = Array(live.prefix { $0 != "--target" })   // --kernel linux --symbols FILE
        let booted = Date()

        // stop the guest through the stub and let QEMU dump it; closing the connection leaves it stopped
        let elf = guest.directory + "/guest.core", kdump = guest.directory + "/guest.kdump"
        let target = try guest.connect()
        _ = try target.monitor("dump-guest-memory \(elf)", timeout: .seconds(300))
        _ = try target.monitor("dump-guest-memory -z \(kdump)", timeout: .seconds(300))
        target.close()
        let dumped = Date()
        let elfSize = (try FileManager.default.attributesOfItem(atPath: elf)[.size] as? NSNumber)?.int64Value ?? 0
        let kdumpSize = (try FileManager.default.attributesOfItem(atPath: kdump)[.size] as? NSNumber)?.int64Value ?? 0
        #expect(elfSize > 512 << 20 && kdumpSize > 1 << 20, "dump sizes \(elfSize), \(kdumpSize)")

        // addresses from the guest itself: its _text (vtop), a free block's head in the direct map (kmem)
        let kallsyms = try guest.section("kallsyms")
        let text = try #require(kallsyms.split(separator: "\n").first { $0.hasSuffix(" _text") }?.split(separator: " ").first, "_text in kallsyms")
        let views: [[String]] = [
            ["info"], ["zones"], ["zones", "--tree"], ["buddyinfo"], ["buddyinfo", "--json"], ["pagetypeinfo"], ["zoneinfo"],
            ["slabinfo"], ["verify"], ["verify", "--json"], ["frame", "0x1000"], ["freelist", "DMA32", "3"],
            ["vtop", "0x" + text], ["kmem", "0x" + text], ["kmem", "0xffff888001000000"],
        ]
        var equal = 0
        for view in views {
            let a = Self.run(view + live)
            #expect(a.status == 0, "live \(view): \(a.errors)")
            for dump in [elf, kdump] {
                let b = Self.run(view + offline + ["--vmcore", dump])
                #expect(b.status == a.status, "\(view) --vmcore \(dump): exit \(b.status), live \(a.status): \(b.errors)")
                #expect(b.output == a.output, "\(view) --vmcore \(dump) differs from live:\n--- live:\n\(a.output)\n--- vmcore:\n\(b.output)\n\(b.errors)")
                #expect(!b.errors.contains("no VMCOREINFO"), "the dump carries VMCOREINFO (qemu_fw_cfg loaded): \(b.errors)")
                if b.output == a.output && b.status == 0 { equal += 1 }
            }
        }
        // and the dump is the guest's: buddyinfo as the guest printed it (idle since)
        let buddy = Self.run(["buddyinfo"] + offline + ["--vmcore", elf])
        #expect(buddy.output == (try guest.section("buddyinfo")), "\(buddy.output)")
        let compared = Date()

        // a symbol map of another build: node_data moved by 64 bytes (a rebuild with one more variable before it)
        let other = guest.directory + "/other-build.kallsyms"
        try kallsyms.split(separator: "\n").map { line -> String in
            let f = line.split(separator: " ")
            guard f.count >= 3, f[2] == "node_data", let a = UInt64(f[0], radix: 16) else { return String(line) }
            return String(a + 64, radix: 16) + " " + f[1...].joined(separator: " ")
        }.joined(separator: "\n").write(toFile: other, atomically: true, encoding: .utf8)
        for dump in [elf, kdump] {
            let refused = Self.run(["buddyinfo", "--kernel", "linux", "--symbols", other, "--vmcore", dump])
            #expect(refused.status == 2 && refused.output.isEmpty, "\(refused)")
            #expect(refused.errors.contains("another kernel build") && refused.errors.contains(other) && refused.errors.contains(dump)
                    && refused.errors.contains("6.1.0-") && refused.errors.contains("node_data"), "\(refused.errors)")
            #expect(refused.errors.split(separator: "\n").count == 1, "one line: \(refused.errors)")
        }

        // truncated dumps: the first 64 MiB of the core, half of the kdump file
        for (dump, keep) in [(elf, Int64(64 << 20)), (kdump, kdumpSize / 2)] {
            let cut = dump + ".cut"
            #expect(LinuxGuest.run(["-c", "head -c \(keep) \"$0\" > \"$1\"", dump, cut]).0 == 0)
            let r = Self.run(["buddyinfo"] + offline + ["--vmcore", cut])
            #expect(r.status == 2 && r.output.isEmpty, "\(cut): \(r)")
            #expect(r.errors.contains("truncated") && r.errors.contains(cut) && r.errors.split(separator: "\n").count == 1, "\(r.errors)")
            unlink(cut)
        }
        // a file of another kind; a command that runs the guest
        let wrong = Self.run(["buddyinfo"] + offline + ["--vmcore", offline[3]])
        #expect(wrong.status == 2 && wrong.errors.contains("is not a vmcore"), "\(wrong)")
        let watch = Self.run(["watch"] + offline + ["--vmcore", elf])
        #expect(watch.status == 2 && watch.errors.split(separator: "\n").count == 1 && watch.errors.contains("one stopped moment"), "\(watch)")

        print("vmcore: \(views.count) views × 2 dumps (ELF \(elfSize >> 20) MiB, kdump \(kdumpSize >> 20) MiB): \(equal) of \(views.count * 2) byte-equal to live; "
              + String(format: "boot %.0f s, dumps %.1f s, views %.0f s, refusals %.0f s, total %.0f s",
                       booted.timeIntervalSince(start), dumped.timeIntervalSince(booted), compared.timeIntervalSince(dumped),
                       Date().timeIntervalSince(compared), Date().timeIntervalSince(start)))
    }
}

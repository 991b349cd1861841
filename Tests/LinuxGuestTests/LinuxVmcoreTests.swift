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

    @Test func everyViewFromBothDumpsEqualsTheStoppedGuest() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: LinuxVerifyTests.binary), "swift build --product kmemscope first")
        let start = Date()
        let lease = try await GuestPool.lease(.plain)
        defer { lease.release() }
        let guest = lease.guest
        let comparison = try DumpComparison(guest)
        let live = comparison.live, offline = comparison.offline
        let kallsyms = try guest.section("kallsyms")
        // the attach console's run control, on this running guest (tmux)
        try LinuxConsoleRunControl.check(guest, live)
        // a snapshot of the running guest, before the dumps: diff's "before"
        let earlier = guest.directory + "/earlier.snap"
        #expect(LinuxVerifyTests.kmemscope(["snapshot", "-o", earlier] + live).0 == 0)
        let booted = Date()

        let (elf, kdump) = try comparison.dump()
        let dumped = Date()
        let elfSize = (try FileManager.default.attributesOfItem(atPath: elf)[.size] as? NSNumber)?.int64Value ?? 0
        let kdumpSize = (try FileManager.default.attributesOfItem(atPath: kdump)[.size] as? NSNumber)?.int64Value ?? 0
        #expect(elfSize > 512 << 20 && kdumpSize > 1 << 20, "dump sizes \(elfSize), \(kdumpSize)")

        // makedumpfile's own kdump-compressed file, from the ELF core (-d 31: free, zero, cache
        // and user pages left out), with the program headers where makedumpfile 1.7.2 looks
        let makedumpfile = guest.directory + "/makedumpfile.kdump", readable = guest.directory + "/guest-phdr64.core"
        try DumpComparison.forMakedumpfile(elf, to: readable)
        let made = LinuxGuest.run(["-c", "makedumpfile -c -d 31 \"$0\" \"$1\" 2>&1", readable, makedumpfile])
        #expect(made.0 == 0 && made.1.contains("makedumpfile Completed"), "makedumpfile (Debian's makedumpfile package, scripts/install-deps.sh): \(made.1)")
        unlink(readable)
        let dumps = made.0 == 0 ? [elf, kdump, makedumpfile] : [elf, kdump]

        let views = try comparison.views()
        let equal = comparison.compare(views, dumps, "6.1")
        // and the dump is the guest's: buddyinfo as the guest printed it (idle since)
        let buddy = Self.run(["buddyinfo"] + offline + ["--vmcore", elf])
        #expect(buddy.output == (try guest.section("buddyinfo")), "\(buddy.output)")

        // kmem and vtop on a snapshot of the stopped guest: byte-equal to live, every kind of address
        let snapshot = guest.directory + "/stopped.snap"
        let taken = LinuxVerifyTests.kmemscope(["snapshot", "-o", snapshot] + live)
        #expect(taken.0 == 0, "\(taken.1)")
        let addresses = try comparison.addresses()
        let lookups = addresses.flatMap { [["kmem", $0], ["vtop", $0]] } + [["kmem", "--json", addresses[0]]]
        let snapshotEqual = comparison.compare(lookups, [snapshot], option: "--snapshot", "6.1 snapshot")

        // diff with dumps: a dump against a dump or a snapshot of the same moment is unchanged;
        // a dump as "after" gives what the snapshot of that moment gives
        let symbols = ["--kernel", "linux", "--symbols", offline[3]]
        for pair in [[elf, kdump], [snapshot, "--vmcore", elf], ["--vmcore", elf, "--vmcore", makedumpfile]] where made.0 == 0 || !pair.contains(makedumpfile) {
            let d = Self.run(["diff"] + pair + symbols)
            #expect(d.status == 0 && d.output.contains("free lists: unchanged") && d.output.contains("free blocks: 0 appeared, 0 went")
                    && d.output.contains("slab caches: 0 changed"), "diff \(pair): \(d)")
        }
        let toDump = Self.run(["diff", earlier, "--vmcore", elf, "--json"] + symbols)
        let toSnapshot = Self.run(["diff", earlier, snapshot, "--json"] + symbols)
        #expect(toDump.status == 0 && toDump.output.replacingOccurrences(of: elf, with: "B") == toSnapshot.output.replacingOccurrences(of: snapshot, with: "B"),
                "diff to the dump:\n\(toDump.output)\ndiff to the snapshot of the same moment:\n\(toSnapshot.output)")
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

        print("vmcore: \(views.count) views × \(dumps.count) dumps (ELF \(elfSize >> 20) MiB, kdump \(kdumpSize >> 20) MiB, makedumpfile's): \(equal) of \(views.count * dumps.count) byte-equal to live; "
              + "kmem/vtop of \(addresses.count) addresses on a snapshot: \(snapshotEqual) of \(lookups.count) byte-equal to live; "
              + String(format: "boot %.0f s, dumps %.1f s, views %.0f s, refusals %.0f s, total %.0f s",
                       booted.timeIntervalSince(start), dumped.timeIntervalSince(booted), compared.timeIntervalSince(dumped),
                       Date().timeIntervalSince(compared), Date().timeIntervalSince(start)))
    }
}

import Foundation
import Glibc
import LinuxKernel
import Testing

/// issue 22: a Linux guest with two NUMA nodes. kmemscope's Linux decoder reads node 0, so a
/// verdict or a view over it covers part of the machine: refused (exit 2, naming node 1) unless
/// `--allow-partial`, which gives node 0's verdict and says, in text and JSON, what it did not cover.
@Suite(.serialized, .enabled(if: LinuxGuest.isAvailable,
                             "Debian's linux-image-amd64 / busybox-static could not be fetched with apt-get download"))
struct LinuxNUMATests {
    @Test func aNodeZeroVerdictOnATwoNodeGuestIsPartial() throws {
        try #require(FileManager.default.isExecutableFile(atPath: LinuxVerifyTests.binary), "swift build --product kmemscope first")
        let guest = try LinuxGuest.boot(numaNodes: 2)
        defer { guest.stop() }
        try guest.waitUntilReady()
        #expect(try guest.section("buddyinfo").contains("Node 1,"), "the guest has a second node")
        let linux = try guest.kmemscopeArguments()

        for command in [["verify"], ["buddyinfo"], ["zones"], ["pagetypeinfo"], ["verify", "--json"]] {
            let (status, text) = LinuxVerifyTests.kmemscope(command + linux)
            #expect(status == 2, "\(command): \(text)")
            #expect(text.contains("2 NUMA nodes (0, 1)") && text.contains("node 1 would not be covered")
                    && text.contains("--allow-partial"), "\(command): \(text)")
            // (the QEMU-process source places one RAM block: with one per node it falls back to the stub, saying so)
            let lines = text.split(separator: "\n").filter { !$0.hasPrefix("kmemscope: reading through the gdbstub (slower): QEMU has 2 RAM blocks") }
            #expect(lines.count == 1, "one line, nothing decoded: \(text)")
        }

        let (status, text) = LinuxVerifyTests.kmemscope(["verify", "--allow-partial"] + linux)
        #expect(status == 0, "\(text)")
        #expect(text.contains("covered: NUMA node 0 of nodes 0, 1") && text.contains("not covered: NUMA node 1"), "\(text)")
        let (jsonStatus, json) = LinuxGuest.run(["-c", "exec \"$0\" \"$@\" 2>/dev/null", LinuxVerifyTests.binary, "verify", "--json", "--allow-partial"] + linux)
        #expect(jsonStatus == 0, "\(json)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        let skipped = document["skipped"] as? [[String: Any]] ?? []
        #expect(skipped.contains { $0["what"] as? String == "NUMA node 1" && $0["asked"] as? Bool == true }, "\(json)")
        // frame reads one struct page by PFN: not a node-0 subset, not refused
        let (frameStatus, frame) = LinuxVerifyTests.kmemscope(["frame", "0x1000"] + linux)
        #expect(frameStatus == 0, "\(frame)")
    }

    /// A free list longer than the walk's bound (`--list-limit`): the lists are read only in
    /// part, so the verdict is partial — exit 2 naming the lists not covered, exit 0 with
    /// --allow-partial (nr_free and NR_FREE_PAGES are not compared for what was cut). Per-CPU
    /// lists that cannot be read (nr_cpu_ids out of bounds) are partial in the same way.
    @Test func aFreeListWalkCutAtItsBoundIsPartial() throws {
        try #require(FileManager.default.isExecutableFile(atPath: LinuxVerifyTests.binary), "swift build --product kmemscope first")
        let guest = try LinuxGuest.boot()
        defer { guest.stop() }
        try guest.waitUntilReady()
        let linux = try guest.kmemscopeArguments()

        let (whole, wholeText) = LinuxVerifyTests.kmemscope(["verify"] + linux)
        #expect(whole == 0 && wholeText.contains("all passed") && !wholeText.contains("not covered"), "\(wholeText)")

        // issue 24's guard on Linux: a kmemscope that traps in the middle of reading the running
        // guest (the debug build's KMEMSCOPE_DEBUG_TRAP) resumes it first and says so; the next
        // connection finds it running (QEMU's unsolicited stop reply).
        let (died, dyingText) = LinuxGuest.run(["-c", "KMEMSCOPE_DEBUG_TRAP=mid-read SWIFT_BACKTRACE=enable=no exec \"$0\" \"$@\" 2>&1",
                                                LinuxVerifyTests.binary, "verify"] + linux)
        #expect(died == 128 + SIGILL || died == 128 + SIGTRAP, "\(died): \(dyingText.suffix(400))")
        #expect(dyingText.contains("resumed the guest"), "\(dyingText.suffix(400))")
        let probe = try guest.connect()
        #expect(probe.unsolicitedStop != nil, "the dying kmemscope left the Linux guest stopped")
        probe.close()
        let (cut, cutText) = LinuxVerifyTests.kmemscope(["verify", "--list-limit", "2"] + linux)
        #expect(cut == 2, "\(cutText)")
        #expect(cutText.contains("all passed") && cutText.contains("not covered: free list zone ")
                && cutText.contains("partial verdict") && cutText.contains("--allow-partial"), "\(cutText)")
        let (accepted, json) = LinuxGuest.run(["-c", "exec \"$0\" \"$@\" 2>/dev/null", LinuxVerifyTests.binary,
                                               "verify", "--json", "--list-limit", "2", "--allow-partial"] + linux)
        #expect(accepted == 0, "\(json)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        let skipped = document["skipped"] as? [[String: Any]] ?? []
        #expect(skipped.contains { ($0["what"] as? String ?? "").hasPrefix("free list zone ") && ($0["reason"] as? String ?? "").contains("walked the first 3 blocks") }, "\(json)")
        #expect(document["passed"] as? Bool == true, "\(json)")

        // Per-CPU lists no CPU of which can be read (nr_cpu_ids beyond what kmemscope walks): the
        // verdict names them as not covered (once they passed over in silence), exit 2.
        let symbols = try SymbolMap(parsing: try guest.section("kallsyms"))
        let cpuIDs = try symbols.address(of: "nr_cpu_ids")
        let writer = try guest.connect()
        let original = try writer.readMemory(at: cpuIDs, count: 4)
        try writer.writeMemory(at: cpuIDs, bytes: [0, 0, 1, 0])   // 65536 CPUs
        writer.close()
        let (unread, unreadText) = LinuxVerifyTests.kmemscope(["verify"] + linux)
        let restore = try guest.connect()
        try restore.writeMemory(at: cpuIDs, bytes: original)
        restore.close()
        #expect(unread == 2, "\(unreadText)")
        #expect(unreadText.contains("not covered: per-CPU lists of ") && unreadText.contains("nr_cpu_ids is 65536, outside 1…1024")
                && unreadText.contains("partial verdict"), "\(unreadText)")
        let (again, againText) = LinuxVerifyTests.kmemscope(["verify"] + linux)
        #expect(again == 0 && !againText.contains("not covered"), "\(againText)")
    }
}

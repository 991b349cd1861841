import Foundation
import Testing
import LinuxKernel

/// Every command on Linux (issue 18): the commands the bundled kernel has, run with
/// `--kernel linux` on Debian's kernel in QEMU through the kmemscope binary, each checked against
/// what the same guest's own /proc printed in the same run; the commands that need the bundled
/// kernel's operation log refuse Linux in one line, exit 2.
@Suite(.serialized, .enabled(if: LinuxGuest.isAvailable,
                             "Debian's linux-image-amd64 / busybox-static could not be fetched with apt-get download"))
struct LinuxCommandsTests {
    /// kmemscope's standard output only (stderr to /dev/null): what a script parses.
    static func standardOutput(_ arguments: [String]) -> (Int32, String) {
        LinuxGuest.run(["-c", "exec \"$0\" \"$@\" 2>/dev/null", LinuxVerifyTests.binary] + arguments)
    }

    /// One boot, every view: zoneinfo equal to /proc/zoneinfo but for the moving counters, its
    /// --json the same numbers, the op-log commands refused.
    @Test(arguments: [nil, "6.12"] as [String?])
    func everyCommandOnOneGuest(version: String?) throws {
        try #require(FileManager.default.isExecutableFile(atPath: LinuxVerifyTests.binary), "swift build --product kmemscope first")
        if version != nil, case .failure(let error) = LinuxGuest.preparation(version: version) {
            print("skipped \(version ?? ""): \(error)")
            return
        }
        let guest = try LinuxGuest.boot(version: version)
        defer { guest.stop() }
        try guest.waitUntilReady()
        let linux = try guest.kmemscopeArguments()
        let label = version ?? "6.1"

        // zoneinfo: byte-equal to the guest's /proc/zoneinfo except the counters that move
        let (status, zoneinfo) = Self.standardOutput(["zoneinfo"] + linux)
        #expect(status == 0, "\(zoneinfo)")
        let proc = try guest.section("zoneinfo")
        let comparison = ZoneinfoComparison(ours: zoneinfo.droppingFinalNewline, guest: proc.droppingFinalNewline)
        print("zoneinfo --kernel linux (\(label)): \(comparison.summary)")
        #expect(comparison.mismatches.isEmpty, "\(label): \(comparison.summary)\n--- ours:\n\(zoneinfo)\n--- /proc/zoneinfo:\n\(proc)")
        #expect(comparison.byteEqual * 10 >= comparison.total * 9, "\(label): most lines are not moving counters: \(comparison.summary)")
        #expect(zoneinfo.contains("  per-node stats\n") && zoneinfo.contains("  vm stats threshold: "), "\(zoneinfo)")

        // --json: the same numbers as the text
        let (jsonStatus, json) = Self.standardOutput(["zoneinfo", "--json"] + linux)
        #expect(jsonStatus == 0, "\(json)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        #expect(document["kernel"] as? String == "linux")
        let nodes = try #require(document["nodes"] as? [[String: Any]])
        let zones = try #require(nodes.first?["zones"] as? [[String: Any]])
        let printedFree = ProcZoneinfo.freePages(proc)
        for zone in zones where zone["populated"] as? Bool == true {
            let name = zone["name"] as? String ?? "?"
            let free = (zone["freePages"] as? NSNumber)?.int64Value ?? -1
            #expect(abs(free - Int64(printedFree[name] ?? 0)) <= ZoneinfoComparison.tolerance, "\(name): \(free) vs /proc \(printedFree[name] ?? 0)")
            #expect((zone["stats"] as? [[String: Any]])?.first?["name"] as? String == "nr_free_pages", "\(zone)")
        }

        // the commands that read the bundled kernel's operation log: one line, exit 2
        for command in [["log"], ["watch"], ["bisect"], ["verify", "--replay"]] {
            let (refused, text) = LinuxVerifyTests.kmemscope(command + linux)
            #expect(refused == 2, "\(command): \(text)")
            let lines = text.split(separator: "\n")
            #expect(lines.count == 1 && text.contains("Linux keeps no operation log"), "\(command): \(text)")
        }
    }
}

extension String {
    /// The text without one final newline (print's, or the /proc file's).
    var droppingFinalNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}

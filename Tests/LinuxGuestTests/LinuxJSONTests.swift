import Foundation
import Testing
import GDBRemote
import LinuxKernel

/// `--json` of `buddyinfo`, `pagetypeinfo`, `zones`, `frame` and `verify` with `--kernel linux`
/// on Debian's kernel in QEMU: each document parses, has `schemaVersion` 1, addresses as hex
/// strings, names for enumerations, and says what the guest's own /proc files say; `verify`
/// has one object per check and names a corruption written into a free page.
@Suite(.serialized, .enabled(if: LinuxGuest.isAvailable,
                             "Debian's linux-image-amd64 / busybox-static could not be fetched with apt-get download"))
struct LinuxJSONTests {
    /// Runs kmemscope with `--json`: the exit status and the parsed document (standard output only).
    static func json(_ arguments: [String]) throws -> (Int32, [String: Any]) {
        let (status, out) = LinuxGuest.run(["-c", "exec \"$0\" \"$@\" --json 2>/dev/null", LinuxVerifyTests.binary] + arguments)
        let object = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        return (status, try #require(object, "\(arguments): \(out)"))
    }

    @Test func documentsAgreeWithTheGuestsProc() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: LinuxVerifyTests.binary), "swift build --product kmemscope first")
        let lease = try await GuestPool.lease(.plain)
        defer { lease.release() }
        let guest = lease.guest
        let linux = try guest.kmemscopeArguments()
        let proc = ProcFreeCounts.parseBuddyinfo(try guest.section("buddyinfo"))
        let procTypes = ProcFreeCounts.parsePagetypeinfo(try guest.section("pagetypeinfo"))
        func common(_ d: [String: Any]) -> Bool { d["schemaVersion"] as? Int == 1 && d["kernel"] as? String == "linux" }

        // buddyinfo: nr_free per zone and order, and /proc's lines
        let (bStatus, buddy) = try Self.json(["buddyinfo", "--pagetypeinfo"] + linux)
        #expect(bStatus == 0 && common(buddy))
        let bZones = try #require(buddy["zones"] as? [[String: Any]])
        #expect(bZones.map { $0["name"] as? String ?? "" } == proc.rows.map(\.zone))
        for (zone, row) in zip(bZones, proc.rows) {
            #expect((zone["freeBlocks"] as? [Int])?.map(UInt64.init) == row.counts, "\(zone)")
        }
        // the lines: buddyinfo's, an empty line, then (--pagetypeinfo) the free table
        let lines = (buddy["lines"] as? [String]) ?? []
        #expect(ProcFreeCounts.parseBuddyinfo(lines.prefix { !$0.isEmpty }.joined(separator: "\n")) == proc)
        #expect(ProcFreeCounts.parsePagetypeinfo(lines.joined(separator: "\n")) == procTypes)

        // pagetypeinfo: blocks per migratetype (by name) and order
        let (pStatus, types) = try Self.json(["pagetypeinfo"] + linux)
        #expect(pStatus == 0 && common(types))
        let pZones = try #require(types["zones"] as? [[String: Any]])
        for row in procTypes.rows {
            let zone = pZones.first { $0["name"] as? String == row.zone }
            let counts = (zone?["freeBlocksByMigratetype"] as? [String: [Int]])?[row.migratetype ?? ""]
            #expect(counts?.map(UInt64.init) == row.counts, "\(row.zone) \(row.migratetype ?? "")")
        }

        // zones: spans as hex, NR_FREE_PAGES equal to /proc/zoneinfo's "pages free"
        let (zStatus, zones) = try Self.json(["zones"] + linux)
        #expect(zStatus == 0 && common(zones))
        #expect((zones["migratetypes"] as? [String])?.first == "Unmovable")
        let zList = try #require(zones["zones"] as? [[String: Any]])
        #expect(zList.allSatisfy { ($0["startPFN"] as? String)?.hasPrefix("0x") == true })
        for (name, free) in ProcZoneinfo.freePages(try guest.section("zoneinfo")) where free > 0 {
            let zone = zList.first { $0["name"] as? String == name }
            #expect(zone?["freePages"] as? Int == Int(free), "zone \(name): \(zone ?? [:])")
            #expect((zone?["watermarks"] as? [String: Int])?["high"] != nil)
        }

        // verify: sixteen checks (twelve of the buddy allocator, four of SLUB), one object each, all passed
        let (vStatus, clean) = try Self.json(["verify"] + linux)
        #expect(vStatus == 0 && common(clean) && clean["passed"] as? Bool == true, "\(clean)")
        let checks = try #require(clean["checks"] as? [[String: Any]])
        #expect(checks.count == 19 && checks.allSatisfy { $0["passed"] as? Bool == true && $0["name"] is String && $0["source"] is String })
        #expect((clean["violations"] as? [Any])?.isEmpty == true && (clean["freeBlocksChecked"] as? Int ?? 0) > 0)

        // frame: a free block's head page, found through the library
        let symbols = try SymbolMap(parsing: try guest.section("kallsyms"))
        let target = try guest.connect()
        let kernel = try LinuxKernelTarget(memory: RemoteTargetMemory(target: target), symbols: symbols)
        let state = try kernel.decodeBuddy()
        let block = try #require(state.zones.first { $0.name == "DMA32" }?.blocks.first { $0.order >= 1 && $0.order < 10 })
        let page = try kernel.page(block.pfn, vmemmapBase: state.vmemmapBase)
        target.close()   // stopped from here on: the lists cannot move under the test
        let pfn = "0x" + String(block.pfn, radix: 16)
        let (fStatus, frame) = try Self.json(["frame", pfn, "2"] + linux)
        #expect(fStatus == 0 && common(frame))
        let frames = try #require(frame["frames"] as? [[String: Any]])
        #expect(frames.count == 2)
        #expect(frames.first?["pfn"] as? String == pfn && frames.first?["state"] as? String == "free")
        #expect(frames.first?["pageTypes"] as? [String] == ["buddy"] && frames.first?["zone"] as? String == "DMA32")
        let head = try #require(frames.first?["block"] as? [String: Any])
        #expect(head["order"] as? Int == block.order && head["onFreeList"] as? Bool == true
                && head["migratetype"] as? String == state.migratetypeNames[block.migratetype], "\(head)")
        #expect(frames.last?["state"] as? String == "inside-free-block" && (frames.last?["block"] as? [String: Any])?["head"] as? String == pfn)
        #expect((frames.first?["structPage"] as? String) == "0x" + String(page.address, radix: 16))

        // a wrong order in page.private: exit 1, the check and the frame named
        let privateAddress = page.address + UInt64(kernel.page.privateOffset)
        try guest.writeU64(at: privateAddress, UInt64(block.order + 1))
        defer { try? guest.writeU64(at: privateAddress, UInt64(block.order)) }
        let (badStatus, bad) = try Self.json(["verify"] + linux)
        #expect(badStatus == 1 && bad["passed"] as? Bool == false)
        let failed = (bad["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "order-recorded" }
        #expect(failed?["passed"] as? Bool == false && failed?["violations"] as? Int == 1, "\(bad)")
        let violation = (bad["violations"] as? [[String: Any]])?.first { $0["check"] as? String == "order-recorded" }
        #expect(violation?["pfn"] as? String == pfn && violation?["zone"] as? String == "DMA32", "\(bad)")
    }

}

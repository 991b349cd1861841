import Foundation
import Testing
import GDBRemote
import LinuxKernel

/// The kernels bookworm has besides its default 6.1 (which LinuxVerifyTests boots): 6.12 (page
/// types in the top byte of `page_type`, BTF's `enum pagetype`) and 6.1's PREEMPT_RT flavour.
/// One boot per version, every Linux view checked against what that guest's own /proc printed.
@Suite(.serialized, .enabled(if: LinuxGuest.isAvailable,
                             "Debian's linux-image-amd64 / busybox-static could not be fetched with apt-get download"))
struct LinuxVersionTests {
    static func kmemscope(_ arguments: [String]) -> (Int32, String) { LinuxVerifyTests.kmemscope(arguments) }

    @Test(arguments: ["6.12", "6.1-rt"])
    func viewsEqualProcAndVerifyIsClean(version: String) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: LinuxVerifyTests.binary), "swift build --product kmemscope first")
        if case .failure(let error) = LinuxGuest.preparation(version: version) {
            Issue.record("Linux \(version) could not be prepared: \(error)")
            return
        }
        let lease = try await GuestPool.lease(.version(version), warming: [.version("6.12"), .version("6.1-rt")])
        defer { lease.release() }
        let guest = lease.guest
        let linux = try guest.kmemscopeArguments()
        let uname = guest.serial.split(separator: "\n").first { $0.hasPrefix("@@kmemscope uname ") } ?? "?"
        print("linux \(version): \(uname)")

        let (status, verify) = Self.kmemscope(["verify"] + linux)
        #expect(status == 0 && verify.contains("all passed"), "\(version):\n\(verify)")
        let (_, buddyinfo) = Self.kmemscope(["buddyinfo"] + linux)
        #expect(ProcFreeCounts.parseBuddyinfo(buddyinfo) == ProcFreeCounts.parseBuddyinfo(try guest.section("buddyinfo")), "\(version):\n\(buddyinfo)")
        #expect(!ProcFreeCounts.parseBuddyinfo(buddyinfo).rows.isEmpty)
        let (_, pagetypes) = Self.kmemscope(["pagetypeinfo"] + linux)
        #expect(LinuxVerifyTests.standardOutput(pagetypes) == (try guest.section("pagetypeinfo")), "\(version), byte-equal to /proc/pagetypeinfo:\n\(pagetypes)")
        let (slabStatus, slabinfo) = Self.kmemscope(["slabinfo"] + linux)
        #expect(slabStatus == 0, "\(slabinfo)")
        SlabinfoRows.compare(ours: slabinfo, guest: try guest.section("slabinfo"), "linux \(version)")
        let (zonesStatus, zones) = Self.kmemscope(["zones"] + linux)
        #expect(zonesStatus == 0)
        for (zone, free) in ProcZoneinfo.freePages(try guest.section("zoneinfo")) where free > 0 {
            #expect(zones.split(separator: "\n").contains { $0.hasPrefix(zone + " ") && $0.split(separator: " ").contains(Substring(String(free))) },
                    "\(version): zone \(zone) free \(free) in:\n\(zones)")
        }

        // A page of each type the kernel names (6.12: slab, table, buddy…) is told as that
        // type by `frame`, and only a buddy page as the head of a free block.
        let symbols = try SymbolMap(parsing: try guest.section("kallsyms"))
        let target = try guest.connect()
        let kernel = try LinuxKernelTarget(memory: RemoteTargetMemory(target: target), symbols: symbols)
        let state = try kernel.decodeBuddy()
        var typed: [String: UInt64] = [:]
        for pfn in stride(from: UInt64(0x1000), to: 0x8000, by: 1) where typed.count < 3 {
            let page = try kernel.page(pfn, vmemmapBase: state.vmemmapBase)
            for name in page.pageTypes where typed[name] == nil { typed[name] = pfn }
        }
        target.close()
        if version == "6.12" {
            #expect(kernel.page.types != .clearedBits, "6.12's BTF has enum pagetype")
            #expect(typed["slab"] != nil, "a slab page among pfn 0x1000…0x8000: \(typed)")
        }
        for (name, pfn) in typed {
            let (frameStatus, frame) = Self.kmemscope(["frame", "0x" + String(pfn, radix: 16)] + linux)
            #expect(frameStatus == 0)
            #expect(frame.contains("[\(name)]"), "\(version) pfn 0x\(String(pfn, radix: 16)):\n\(frame)")
            #expect(frame.contains("buddy block") == (name == "buddy"), "\(version) pfn 0x\(String(pfn, radix: 16)):\n\(frame)")
        }

        // 6.12 offline, on this boot: every view from an ELF core and a kdump-compressed dump
        // byte-equal to the same view read live from the stopped guest, as LinuxVmcoreTests does on
        // 6.1; and kmem/vtop of every kind of address on a snapshot of it
        if version == "6.12" {
            let comparison = try DumpComparison(guest)
            let started = Date()
            let (elf, kdump) = try comparison.dump()
            let views = try comparison.views()
            let equal = comparison.compare(views, [elf, kdump], "6.12")
            let snapshot = guest.directory + "/stopped.snap"
            let taken = Self.kmemscope(["snapshot", "-o", snapshot] + linux)
            #expect(taken.0 == 0, "\(taken.1)")
            let lookups = try comparison.addresses().flatMap { [["kmem", $0], ["vtop", $0]] }
            let snapshotEqual = comparison.compare(lookups, [snapshot], option: "--snapshot", "6.12 snapshot")
            print("vmcore 6.12: \(equal) of \(views.count * 2) views byte-equal to live (ELF core, kdump); kmem/vtop on a snapshot: \(snapshotEqual) of \(lookups.count); "
                  + String(format: "%.0f s", Date().timeIntervalSince(started)))
        }
    }
}

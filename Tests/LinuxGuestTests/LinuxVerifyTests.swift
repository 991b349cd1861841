import Foundation
import Testing
import GDBRemote
import LinuxKernel

/// `verify`, `zones`, `pagetypeinfo` and `frame` with `--kernel linux` on Debian's kernel in
/// QEMU, through the kmemscope binary as a user runs it: clean on the idle guest, equal to the
/// guest's own /proc, and a corruption written into one free page through the stub is named
/// by the check that owns it.
@Suite(.serialized, .enabled(if: LinuxGuest.isAvailable,
                             "Debian's linux-image-amd64 / busybox-static could not be fetched with apt-get download"))
struct LinuxVerifyTests {
    static var binary: String { LinuxGuest.repositoryRoot + "/.build/debug/kmemscope" }

    /// Runs kmemscope; standard output and standard error together.
    static func kmemscope(_ arguments: [String]) -> (Int32, String) {
        LinuxGuest.run(["-c", "exec \"$0\" \"$@\" 2>&1", binary] + arguments)
    }

    @Test func verifyViewsAndACorruptedFreePage() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "swift build --product kmemscope first")
        let lease = try await GuestPool.lease(.plain, warming: [.kaslrSlubDebug])
        defer { lease.release() }
        let guest = lease.guest
        let linux = try guest.kmemscopeArguments()

        // Clean: every check passes on the idle guest.
        let start = Date()
        let (clean, cleanText) = Self.kmemscope(["verify"] + linux)
        print("verify --kernel linux (\(String(format: "%.0f", Date().timeIntervalSince(start) * 1000)) ms):\n\(cleanText)")
        #expect(clean == 0, "\(cleanText)")
        #expect(cleanText.contains("19 checks") && cleanText.contains("slabs: all passed"), "\(cleanText)")
        #expect(!cleanText.contains("not checked"), "per-CPU lists are read: \(cleanText)")

        // Views equal the guest's /proc.
        let (_, pagetypes) = Self.kmemscope(["pagetypeinfo"] + linux)
        #expect(Self.standardOutput(pagetypes) == (try guest.section("pagetypeinfo")), "byte-equal to /proc/pagetypeinfo:\n\(pagetypes)")
        let (slabStatus, slabinfo) = Self.kmemscope(["slabinfo"] + linux)
        #expect(slabStatus == 0, "\(slabinfo)")
        SlabinfoRows.compare(ours: slabinfo, guest: try guest.section("slabinfo"), "linux 6.1")
        // zones --tree renders the same view: each zone's orders, the blocks walked per migratetype
        let (treeStatus, tree) = Self.kmemscope(["zones", "--tree"] + linux)
        #expect(treeStatus == 0 && tree.contains("zone DMA32  pfn [0x1000, ") && tree.contains("Movable"), "\(tree)")
        let (zonesStatus, zones) = Self.kmemscope(["zones"] + linux)
        #expect(zonesStatus == 0)
        #expect(ProcFreeCounts.parseBuddyinfo(zones) == ProcFreeCounts.parseBuddyinfo(try guest.section("buddyinfo")), "\(zones)")
        let printedFree = ProcZoneinfo.freePages(try guest.section("zoneinfo"))
        for (zone, free) in printedFree where free > 0 {
            #expect(zones.split(separator: "\n").contains { $0.hasPrefix(zone + " ") && $0.split(separator: " ").contains(Substring(String(free))) },
                    "zone \(zone) free \(free) in:\n\(zones)")
        }

        // The QEMU process through the guest's page tables (the default, found behind the local
        // stub) reads what the stub reads.
        for view in [["verify"], ["zones"], ["pagetypeinfo"], ["frame", "0x1000", "2"]] {
            let (viaStub, stubText) = Self.kmemscope(view + linux + ["--memory-source", "stub"])
            let (viaProcess, processText) = Self.kmemscope(view + linux + ["--memory-source", "process"])
            #expect(viaStub == viaProcess && stubText == processText, "\(view):\n\(stubText)\n---\n\(processText)")
        }
        let (_, timed) = Self.kmemscope(["buddyinfo", "--timing"] + linux)
        #expect(timed.contains("timing: source QEMU's memory (pid "), "\(timed)")

        // A free block to corrupt, found through the library (the test's own connection). The
        // guest was found running by every command above and left running: connecting now
        // interrupts it (QEMU says so with an unsolicited stop reply).
        let symbols = try SymbolMap(parsing: try guest.section("kallsyms"))
        let target = try guest.connect()
        #expect(target.unsolicitedStop != nil, "kmemscope left the running guest running")
        let memory = RemoteTargetMemory(target: target)
        let kernel = try LinuxKernelTarget(memory: memory, symbols: symbols)
        let state = try kernel.decodeBuddy()
        let zone = try #require(state.zones.first { $0.name == "DMA32" })
        let block = try #require(zone.blocks.first { $0.order >= 1 && $0.order < 10 })
        let page = try kernel.page(block.pfn, vmemmapBase: state.vmemmapBase)
        // The kernel-neutral frame states: a free block's head, a page inside it, and a page
        // of the kernel image (reserved at boot, referenced, no slab).
        let frames = LinuxFrameStates(linux: kernel, state: state)
        #expect(frames.frameState(block.pfn) == .freeHead(order: block.order))
        #expect(frames.frameState(block.pfn + 1) == .freeTail(head: block.pfn))
        let bannerPFN = (try symbols.address(of: "linux_banner") - 0xffff_ffff_8000_0000) >> 12
        #expect(frames.frameState(bannerPFN) == .allocated(refcount: 1, slab: false), "pfn 0x\(String(bannerPFN, radix: 16))")
        target.close()  // the guest stays stopped from here on: its lists cannot move under the test

        let (_, frame) = Self.kmemscope(["frame", "0x" + String(block.pfn, radix: 16)] + linux)
        #expect(frame.contains("page_type") && frame.contains("buddy") && frame.contains("order \(block.order)"), "\(frame)")

        // 1. The order recorded in page.private.
        let privateAddress = page.address + UInt64(kernel.page.privateOffset)
        try guest.writeU64(at: privateAddress, UInt64(block.order + 1))
        let (badOrder, badOrderText) = Self.kmemscope(["verify"] + linux)
        #expect(badOrder == 1, "\(badOrderText)")
        #expect(badOrderText.contains("order-recorded: zone DMA32 pfn 0x\(String(block.pfn, radix: 16))"), "\(badOrderText)")
        try guest.writeU64(at: privateAddress, UInt64(block.order))

        // 2. A list link: the block's next pointer aimed at the middle of another struct page.
        let nextAddress = page.address + UInt64(kernel.layout.pageBuddyListOffset + kernel.layout.listNextOffset)
        let original = try guest.readU64(at: nextAddress)
        try guest.writeU64(at: nextAddress, state.vmemmapBase + 0x1234)
        let (badLink, badLinkText) = Self.kmemscope(["verify"] + linux)
        #expect(badLink == 1, "\(badLinkText)")
        #expect(badLinkText.contains("list-links: zone DMA32"), "\(badLinkText)")
        try guest.writeU64(at: nextAddress, original)

        // Put back: clean again, and the guest is left stopped (it was found stopped).
        let (again, againText) = Self.kmemscope(["verify"] + linux)
        #expect(again == 0, "\(againText)")
        let last = try guest.connect()
        #expect(last.unsolicitedStop == nil, "kmemscope left the stopped guest stopped")
        last.close()
    }

    /// On 6.1 booted with KASLR (the boot LinuxSlubTests' slub_debug test shares: its
    /// `slub_debug=FZP` changes no free list this reads).
    @Test func kaslrOffsetIsFoundInTheGuest() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "swift build --product kmemscope first")
        let lease = try await GuestPool.lease(.kaslrSlubDebug)
        defer { lease.release() }
        let guest = lease.guest
        let kallsyms = try SymbolMap(parsing: try guest.section("kallsyms"))
        // The link-time map (what System.map holds): kallsyms moved back by where _stext landed.
        let stext = try kallsyms.address(of: "_stext")
        let offset = stext &- 0xffff_ffff_8100_0000
        #expect(offset != 0 && offset % KASLR.alignment == 0, "KASLR moved the kernel by 0x\(String(offset, radix: 16))")
        let linkTime = try guest.section("kallsyms").split(separator: "\n").map { line -> String in
            let f = line.split(separator: " ")
            guard f.count >= 3, let a = UInt64(f[0], radix: 16), a >= SymbolMap.kernelImageBase else { return String(line) }
            return String(a &- offset, radix: 16) + " " + f[1...].joined(separator: " ")
        }.joined(separator: "\n")
        let mapFile = guest.directory + "/System.map"
        try linkTime.write(toFile: mapFile, atomically: true, encoding: .utf8)
        let (status, text) = Self.kmemscope(["buddyinfo", "--kernel", "linux", "--symbols", mapFile, "--target", "unix:" + guest.socketPath])
        #expect(status == 0, "\(text)")
        #expect(text.contains("KASLR offset 0x\(String(offset, radix: 16))"), "\(text)")
        // The free lists read through the map moved back by the offset are the guest's: the same
        // zones and orders as the /proc/buddyinfo it printed at `ready`, each count within a few
        // blocks (the idle guest still frees and allocates in the seconds between the two reads:
        // exact on a quiet host, one or two orders off beside the whole suite). A wrong offset
        // reads no free lists at all: it is refused below.
        let ours = ProcFreeCounts.parseBuddyinfo(text).rows, proc = ProcFreeCounts.parseBuddyinfo(try guest.section("buddyinfo")).rows
        #expect(ours.map { "\($0.node) \($0.zone) \($0.counts.count)" } == proc.map { "\($0.node) \($0.zone) \($0.counts.count)" }, "\(text)")
        var equal = 0, total = 0
        for (a, b) in zip(ours, proc) {
            for (u, v) in zip(a.counts, b.counts) {
                total += 1
                if u == v { equal += 1 }
                #expect(abs(Int64(u) - Int64(v)) <= 16, "zone \(a.zone): \(a.counts) vs /proc \(b.counts)")
            }
        }
        #expect(total > 0)
        print("buddyinfo through a link-time System.map: \(equal) of \(total) counts equal to /proc/buddyinfo, the rest within 16 blocks")

        // A map of another layout (every address 1 MiB off: no 2 MiB step finds the banner).
        let wrong = linkTime.split(separator: "\n").map { line -> String in
            let f = line.split(separator: " ")
            guard f.count >= 3, let a = UInt64(f[0], radix: 16), a >= SymbolMap.kernelImageBase else { return String(line) }
            return String(a &+ 0x10_0000, radix: 16) + " " + f[1...].joined(separator: " ")
        }.joined(separator: "\n")
        try wrong.write(toFile: mapFile, atomically: true, encoding: .utf8)
        let (wrongStatus, wrongText) = Self.kmemscope(["buddyinfo", "--kernel", "linux", "--symbols", mapFile, "--target", "unix:" + guest.socketPath])
        #expect(wrongStatus == 2, "\(wrongText)")
        #expect(wrongText.contains("not this guest kernel's"), "\(wrongText)")
    }

    /// What kmemscope printed less its `kmemscope: …` lines (standard error, merged by ``kmemscope(_:)``).
    static func standardOutput(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("kmemscope: ") }.joined(separator: "\n")
    }


}

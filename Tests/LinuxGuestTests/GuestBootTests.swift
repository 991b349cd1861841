import Foundation
import Testing
import LinuxKernel

/// The guest of scripts/linux-guest.sh boots and prints every section the decoder tests compare with.
@Suite(.serialized, .enabled(if: LinuxGuest.isAvailable,
                             "Debian's linux-image-amd64 / busybox-static could not be fetched with apt-get download"))
struct GuestBootTests {
    @Test func guestPrintsItsAllocatorState() async throws {
        let lease = try await GuestPool.lease(.plain)
        defer { lease.release() }
        let guest = lease.guest
        for name in ["kallsyms", "zoneinfo", "buddyinfo", "pagetypeinfo"] {
            #expect(!(try guest.section(name)).isEmpty, "section \(name)")
        }
        #expect(try guest.section("buddyinfo").contains("zone      DMA"))
        // vmlinux's BTF, read from guest memory between __start_BTF and __stop_BTF.
        let symbols = try SymbolMap(parsing: try guest.section("kallsyms"))
        let target = try guest.connect()
        defer { target.close() }
        let start = Date()
        let btf = try BTFTypes.load(from: RemoteTargetMemory(target: target), symbols: symbols)
        let btfSeconds = Date().timeIntervalSince(start)
        let size = try symbols.address(of: "__stop_BTF") - symbols.address(of: "__start_BTF")
        print("linux guest: BTF \(size) bytes, \(btf.typeCount) types, read+parsed in \(String(format: "%.2f", btfSeconds)) s")
        let layout = try LinuxMMLayout(btf: btf)
        // 6.1 on x86_64 without CMA: learned from BTF, checked here.
        #expect(layout.orderCount == 11)
        #expect(layout.migratetypeCount == 5)
        #expect(layout.pageSize == 64)
        #expect(layout.pageBuddyListName == "buddy_list")
        print("linux guest: page \(layout.pageSize) B (buddy_list at +\(layout.pageBuddyListOffset)), zone \(layout.zoneSize) B, free_area \(layout.freeAreaSize) B, \(layout.orderCount) orders, \(layout.migratetypeCount) migratetypes, \(layout.zoneCount) zones per node")
        print("linux guest: prepare \(String(format: "%.1f", LinuxGuest.preparation.seconds)) s, \(guest.restored ? "restore" : "boot") to ready \(String(format: "%.1f", guest.bootSeconds)) s")
    }
}

extension Result<LinuxGuest.Preparation, LinuxGuest.GuestError> {
    var seconds: Double { (try? get().seconds) ?? 0 }
}

import Foundation
import Testing

/// The guest of scripts/linux-guest.sh boots and prints every section the decoder tests compare with.
@Suite(.serialized, .enabled(if: LinuxGuest.isAvailable,
                             "Debian's linux-image-amd64 / busybox-static could not be fetched with apt-get download"))
struct GuestBootTests {
    @Test func guestPrintsItsAllocatorState() throws {
        let guest = try LinuxGuest.boot()
        defer { guest.stop() }
        try guest.waitUntilReady()
        for name in ["kallsyms", "zoneinfo", "buddyinfo", "pagetypeinfo"] {
            #expect(!(try guest.section(name)).isEmpty, "section \(name)")
        }
        #expect(try guest.section("buddyinfo").contains("zone      DMA"))
        print("linux guest: prepare \(String(format: "%.1f", LinuxGuest.preparation.seconds)) s, boot to ready \(String(format: "%.1f", guest.bootSeconds)) s")
    }
}

extension Result<LinuxGuest.Preparation, LinuxGuest.GuestError> {
    var seconds: Double { (try? get().seconds) ?? 0 }
}

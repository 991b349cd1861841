import Foundation
import Testing
import GDBRemote
import LinuxKernel

/// `verify --kernel linux` on a Debian guest whose page and slab allocators are kept busy on
/// every CPU (`kmemscope.busy`: tmpfs files written, read and deleted in a loop per CPU): at
/// random moments it never gives a false verdict (it settles first), a guest found stopped
/// inside the allocator is refused unless `--settle`, and a real corruption is still named.
@Suite(.serialized, .enabled(if: LinuxGuest.isAvailable,
                             "Debian's linux-image-amd64 / busybox-static could not be fetched with apt-get download"))
struct LinuxBusyGuestTests {
    static func kmemscope(_ arguments: [String]) -> (Int32, String) { LinuxVerifyTests.kmemscope(arguments) }

    /// Leases the busy guest with `cpus` CPUs (``GuestPool``); its symbol file holds the kallsyms
    /// lines and the allocator functions with the symbol after each (their ends).
    static func busyGuest(cpus: Int) async throws -> (GuestLease, [String]) {
        try #require(FileManager.default.isExecutableFile(atPath: LinuxVerifyTests.binary), "swift build --product kmemscope first")
        let lease = try await GuestPool.lease(.busy(cpus: cpus))
        do {
            return (lease, try lease.guest.kmemscopeArguments(sections: ["kallsyms", "allocator-text"]))
        } catch {
            lease.release()
            throw error
        }
    }

    /// 30 verifies at random moments of a busy guest: none exits 1 (a healthy guest).
    @Test(arguments: [1, 2])
    func noFalseVerdictOnABusyGuest(cpus: Int) async throws {
        let (lease, linux) = try await Self.busyGuest(cpus: cpus)
        defer { lease.release() }
        var statuses: [Int32: Int] = [:]
        var settledAfterRunning = 0
        for run in 0..<30 {
            usleep(useconds_t(Int.random(in: 0..<300_000)))
            let (status, text) = Self.kmemscope(["verify"] + linux)
            statuses[status, default: 0] += 1
            if text.contains("settled: the guest ran on") { settledAfterRunning += 1 }
            #expect(status == 0, "run \(run) at -smp \(cpus): a healthy busy guest got\n\(text)")
        }
        print("busy guest -smp \(cpus): 30 verifies, exit statuses \(statuses), \(settledAfterRunning) needed the guest to run on to settle")
    }

    /// Stopped at the entry of `__free_one_page` (zone->lock held): no verdict without
    /// `--settle`, naming the function and the lock; with it, the guest runs to a settled
    /// point, is checked clean and is left stopped as it was found; then a corrupted list link
    /// of a free block is named (exit 1) and, put back, is clean again.
    @Test func stoppedInsideTheAllocatorAndACorruptLinkOnABusyGuest() async throws {
        let (lease, linux) = try await Self.busyGuest(cpus: 2)
        defer { lease.release() }
        let guest = lease.guest
        let symbols = try SymbolMap(parsing: try guest.section("kallsyms") + "\n" + (try guest.section("allocator-text")))
        let entry = try symbols.address(of: "__free_one_page")

        // the test's own connection stops the guest where __free_one_page starts, and leaves it there
        let target = try guest.connect()
        try target.setBreakpoint(at: entry)
        let stop = try target.continueUntilStop(timeout: .seconds(120))
        try target.removeBreakpoint(at: entry)
        #expect(try target.register("rip") == entry, "stopped by \(stop)")
        target.close()

        let (refused, refusedText) = Self.kmemscope(["verify"] + linux)
        #expect(refused == 2, "\(refusedText)")
        #expect(refusedText.contains("inside __free_one_page") && refusedText.contains("lock"), "\(refusedText)")
        #expect(refusedText.contains("--settle"), "\(refusedText)")

        let (settled, settledText) = Self.kmemscope(["verify", "--settle"] + linux)
        #expect(settled == 0, "\(settledText)")
        #expect(settledText.contains("settled: the guest ran on"), "\(settledText)")

        // left stopped at that settled point: the lists cannot move under the test now
        let again = try guest.connect()
        #expect(again.unsolicitedStop == nil, "--settle left the guest found stopped stopped")
        let kernel = try LinuxKernelTarget(memory: RemoteTargetMemory(target: again), symbols: symbols)
        let state = try kernel.decodeBuddy()
        let zone = try #require(state.zones.first { $0.name == "DMA32" })
        let block = try #require(zone.blocks.first { $0.order >= 1 && $0.order < 10 })
        let page = try kernel.page(block.pfn, vmemmapBase: state.vmemmapBase)
        let nextAddress = page.address + UInt64(kernel.layout.pageBuddyListOffset + kernel.layout.listNextOffset)
        let original = try again.readMemory(at: nextAddress, count: 8)
        try again.writeMemory(at: nextAddress, bytes: Self.bytes(state.vmemmapBase + 0x1234))
        again.close()

        let (bad, badText) = Self.kmemscope(["verify"] + linux)
        #expect(bad == 1, "\(badText)")
        #expect(badText.contains("list-links: zone DMA32"), "\(badText)")

        let fix = try guest.connect()
        try fix.writeMemory(at: nextAddress, bytes: original)
        fix.close()
        let (clean, cleanText) = Self.kmemscope(["verify"] + linux)
        #expect(clean == 0, "\(cleanText)")
    }

    static func bytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }
}

import Foundation
import Testing
import KernelLayouts
import LinuxKernel

/// A distribution's debug `vmlinux` (Debian's `linux-image-*-dbg`: ~600 MB of DWARF in
/// ~2,900 compile units) gives the same page-allocator and SLUB layouts through DWARF as the
/// kernel's own BTF (the image's `.BTF` section, what `--kernel linux` reads from the guest).
/// The image is large and downloaded on demand (scripts/debian-vmlinux.sh), so the test runs
/// when `KMEMSCOPE_VMLINUX_DBG` names one, and prints how long DWARF took.
@Suite("A Debian debug vmlinux's DWARF",
       .enabled(if: ProcessInfo.processInfo.environment["KMEMSCOPE_VMLINUX_DBG"] != nil,
                "KMEMSCOPE_VMLINUX_DBG is not set (scripts/debian-vmlinux.sh fetches the image and runs this)"))
struct DebianVmlinuxTypesTests {
    /// The fixture's / the Debian vmlinux's release: its page types are 6.1's table (no enum pagetype).
    static let linux61 = LinuxKernelVersion(major: 6, minor: 1)
    @Test func layoutsFromDWARFAreTheBTFOnes() throws {
        let path = try #require(ProcessInfo.processInfo.environment["KMEMSCOPE_VMLINUX_DBG"])
        let btf = try BTFTypes(bytes: try Self.section(".BTF", of: path))
        let clock = ContinuousClock()
        var dwarf: DwarfKernelTypes?
        var mm: LinuxMMLayout?, page: LinuxPageLayout?, slub: SlubLayout?
        let took = try clock.measure {
            let d = try DwarfKernelTypes(path: path)
            mm = try LinuxMMLayout(btf: d)
            page = try LinuxPageLayout(btf: d, version: Self.linux61)
            slub = try SlubLayout(btf: d)
            dwarf = d
        }
        print("DWARF of \(path): the layouts in \(took), \(dwarf?.typeCount ?? 0) types read")
        #expect(mm == (try LinuxMMLayout(btf: btf)))
        #expect(page == (try LinuxPageLayout(btf: btf, version: Self.linux61)))
        #expect(slub == (try SlubLayout(btf: btf)))
    }

    /// The bytes of section `name` of the ELF at `path` (through objcopy, as a user would).
    static func section(_ name: String, of path: String) throws -> [UInt8] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("kmemscope-btf-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let (status, text) = LinuxGuest.run(["-c", "objcopy -O binary --only-section=\"$0\" \"$1\" \"$2\"", name, path, out])
        try #require(status == 0, "objcopy: \(text)")
        return Array(try Data(contentsOf: URL(fileURLWithPath: out)))
    }
}

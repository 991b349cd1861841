import Foundation
import Testing
import KernelLayouts
import LinuxKernel

/// The Linux profile learns the same layout from DWARF (a vmlinux) as from BTF: one C file
/// with 6.1's page allocator types, compiled for x86_64 with DWARF and for BPF (which emits
/// BTF), both read back. No guest needed.
@Suite struct LinuxTypesTests {
    /// The fixture's / the Debian vmlinux's release: its page types are 6.1's table (no enum pagetype).
    static let linux61 = LinuxKernelVersion(major: 6, minor: 1)
    static let fixture = LinuxGuest.repositoryRoot + "/Tests/LinuxGuestTests/Fixtures/linux-mm-types.c"

    /// Compiles the fixture; the DWARF image and the raw BTF blob.
    static func build() throws -> (elf: String, btf: [UInt8]) {
        var template = Array("/tmp/kmemscope-types-XXXXXX".utf8CString)
        let dir = String(cString: try #require(mkdtemp(&template)))
        let elf = dir + "/vmlinux-like.so", bpf = dir + "/types.bpf.o", btf = dir + "/types.btf"
        let (s1, o1) = LinuxGuest.run(["-c", "clang -g -O0 -fPIC -shared -nostdlib \"$0\" -o \"$1\"", fixture, elf])
        try #require(s1 == 0, "clang (x86_64, DWARF): \(o1)")
        let (s2, o2) = LinuxGuest.run(["-c", "clang -target bpf -g -O0 -c \"$0\" -o \"$1\" && llvm-objcopy --dump-section .BTF=\"$2\" \"$1\"", fixture, bpf, btf])
        try #require(s2 == 0, "clang (BPF, BTF) / llvm-objcopy: \(o2)")
        return (elf, Array(try Data(contentsOf: URL(fileURLWithPath: btf))))
    }

    @Test func dwarfAndBTFGiveTheSameLayout() throws {
        let (elf, blob) = try Self.build()
        let btf = try BTFTypes(bytes: blob)
        let dwarf = try DwarfKernelTypes(path: elf)
        let fromBTF = try LinuxMMLayout(btf: btf)
        let fromDWARF = try LinuxMMLayout(btf: dwarf)
        #expect(fromDWARF == fromBTF)
        #expect(try LinuxPageLayout(btf: dwarf, version: Self.linux61) == LinuxPageLayout(btf: btf, version: Self.linux61))
        // What the fixture says, learned and not assumed.
        #expect(fromDWARF.pageSize == 64 && fromDWARF.pageBuddyListName == "buddy_list" && fromDWARF.pageBuddyListOffset == 8)
        #expect(fromDWARF.pagePrivateOffset == 40 && fromDWARF.pageMapcountOffset == 48)
        #expect(fromDWARF.orderCount == 11 && fromDWARF.migratetypeCount == 5 && fromDWARF.zoneCount == 5)
        let page = try LinuxPageLayout(btf: dwarf, version: Self.linux61)
        #expect(page.flagCount == 27 && page.flagNames[10] == "owner_priv_1" && page.flagNames[12] == "reserved")
        #expect(page.pcpListOffset == 8 && page.refcountOffset == 52 && page.compoundHeadOffset == 8)
        #expect(try dwarf.enumValue("MIGRATE_PCPTYPES", in: "migratetype") == 3)
        #expect(try dwarf.arrayMember("lists", of: "per_cpu_pages").count == 14)
        // The vmlinux's symbol table names the globals the decoder reads.
        let symbols = try SymbolMap(elf: try ElfFile(path: elf))
        #expect(symbols.symbol(named: "node_data") != nil)
    }
}

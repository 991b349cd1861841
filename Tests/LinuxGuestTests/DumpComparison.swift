import Foundation
import Testing
import GDBRemote
import LinuxKernel

/// Every Linux view read from a guest's dumps and from a snapshot, against the same view read
/// live from the same stopped guest (issue 18, offline): shared by the 6.1 vmcore test and the
/// 6.12 guest's boot, so both kernels are held to one comparison.
struct DumpComparison {
    let guest: LinuxGuest
    /// `--kernel linux --symbols FILE --target …`.
    let live: [String]
    /// `--kernel linux --symbols FILE`.
    var offline: [String] { Array(live.prefix { $0 != "--target" }) }

    init(_ guest: LinuxGuest) throws {
        self.guest = guest
        live = try guest.kmemscopeArguments()
    }

    /// Stops the guest through the stub and lets QEMU dump it, an ELF core and `-z`
    /// (kdump-compressed, flattened on QEMU 7.2); closing the connection leaves it stopped.
    func dump() throws -> (elf: String, kdump: String) {
        let elf = guest.directory + "/guest.core", kdump = guest.directory + "/guest.kdump"
        let target = try guest.connect()
        defer { target.close() }
        _ = try target.monitor("dump-guest-memory \(elf)", timeout: .seconds(300))
        _ = try target.monitor("dump-guest-memory -z \(kdump)", timeout: .seconds(300))
        return (elf, kdump)
    }

    /// The views compared: every Linux view and verify, and addresses from the guest itself —
    /// its `_text` (vtop, kmem) and a direct-map address (kmem).
    func views() throws -> [[String]] {
        let text = try symbol("_text")
        return [
            ["info"], ["zones"], ["zones", "--tree"], ["buddyinfo"], ["buddyinfo", "--json"], ["pagetypeinfo"], ["zoneinfo"],
            ["slabinfo"], ["verify"], ["verify", "--json"], ["frame", "0x1000"], ["freelist", "DMA32", "3"],
            ["vtop", text], ["kmem", text], ["kmem", "0xffff888001000000"],
        ]
    }

    /// The address of `name` in the guest's kallsyms, `0x…`.
    func symbol(_ name: String) throws -> String {
        let kallsyms = try guest.section("kallsyms")
        let address = try #require(kallsyms.split(separator: "\n").first { $0.hasSuffix(" " + name) }?.split(separator: " ").first, "\(name) in kallsyms")
        return "0x" + address
    }

    /// Each of `views` read from each file in `files` (`--vmcore` or `--snapshot`, by `option`)
    /// byte-equal, with its exit status, to the same view read live. Returns how many were.
    func compare(_ views: [[String]], _ files: [String], option: String = "--vmcore", _ label: String) -> Int {
        var equal = 0
        for view in views {
            let a = LinuxVmcoreTests.run(view + live)
            #expect(a.status == 0, "\(label) live \(view): \(a.errors)")
            for file in files {
                let b = LinuxVmcoreTests.run(view + offline + [option, file])
                #expect(b.status == a.status, "\(label) \(view) \(option) \(file): exit \(b.status), live \(a.status): \(b.errors)")
                #expect(b.output == a.output, "\(label) \(view) \(option) \(file) differs from live:\n--- live:\n\(a.output)\n--- offline:\n\(b.output)\n\(b.errors)")
                #expect(option != "--vmcore" || !b.errors.contains("no VMCOREINFO"), "\(label): the dump carries VMCOREINFO (qemu_fw_cfg loaded): \(b.errors)")
                if b.output == a.output && b.status == a.status { equal += 1 }
            }
        }
        return equal
    }

    /// Addresses for `kmem` and `vtop` on a snapshot: the image, the direct map, a vmalloc
    /// mapping (/proc/vmallocinfo), a `struct page` in the vmemmap, and a free and an in-use
    /// object of one slab (found through the library on the stopped guest).
    func addresses() throws -> [String] {
        var addresses = [try symbol("_text"), try symbol("linux_banner"), "0xffff888001000000", "0xffff888000000000"]
        if let vmalloc = try guest.section("vmallocinfo").split(separator: "\n").first(where: { $0.contains("pages=") })?.split(separator: "-").first {
            addresses.append(String(vmalloc))
        }
        let symbols = try SymbolMap(parsing: try guest.section("kallsyms"))
        let target = try guest.connect()
        defer { target.close() }
        let kernel = try LinuxKernelTarget(memory: RemoteTargetMemory(target: target), symbols: symbols)
        let state = try kernel.decodeBuddy()
        addresses.append("0x" + String(state.vmemmapBase + 0x1234 * 64 + 8, radix: 16))
        var found: [Bool: UInt64] = [:]
        pages: for pfn in stride(from: UInt64(0x1000), to: 0x8000, by: 1) {
            let page = try kernel.page(pfn, vmemmapBase: state.vmemmapBase)
            guard page.compoundHeadPage == nil, page.flagNames(kernel.page).contains("slab") || page.pageTypes.contains("slab") else { continue }
            let start = state.pageOffsetBase + pfn * 4096
            guard let first = try? kernel.slubObject(at: start, headPFN: pfn, state: state), first.size > 0 else { continue }
            // at most 16 objects of a slab looked at (each lookup walks the slab's freelists)
            for index in stride(from: UInt64(0), to: UInt64(first.objects), by: max(1, first.objects / 16)) {
                let object = try kernel.slubObject(at: start + index * first.size + 8, headPFN: pfn, state: state)
                if let free = object.free, found[free] == nil { found[free] = start + index * first.size + 8 }
                if found.count == 2 { break pages }
            }
        }
        #expect(found.count == 2, "a slab with a free and an in-use object among pfn 0x1000…0x8000: \(found)")
        return addresses + found.values.map { "0x" + String($0, radix: 16) }
    }

    /// A copy of QEMU's ELF core that makedumpfile 1.7.2 reads: QEMU 7.2 writes a section header
    /// at offset 64 and the program headers after it (e_phoff 192); makedumpfile reads them at
    /// sizeof(Elf64_Ehdr) = 64 whatever e_phoff says, finds no PT_LOAD there and gives up ("Can't
    /// get the number of PT_LOAD"). The copy has the program headers at 64 and no section header.
    static func forMakedumpfile(_ core: String, to copy: String) throws {
        #expect(LinuxGuest.run(["-c", "cp \"$0\" \"$1\" && chmod u+w \"$1\"", core, copy]).0 == 0)
        let handle = try #require(FileHandle(forUpdatingAtPath: copy), "\(copy)")
        defer { try? handle.close() }
        var header = [UInt8](try #require(try handle.read(upToCount: 64)))
        func u64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<8 { value |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
            return value
        }
        func u16(_ at: Int) -> Int { Int(header[at]) | Int(header[at + 1]) << 8 }
        let phoff = u64(header, 32), phentsize = u16(54), phnum = u16(56)
        try #require(phentsize == 56 && phnum > 0 && phnum < 0xffff, "an ELF64 core with fewer than PN_XNUM program headers: \(phentsize) × \(phnum)")
        try handle.seek(toOffset: phoff)
        let headers = [UInt8](try #require(try handle.read(upToCount: phentsize * phnum)))
        let firstData = (0..<phnum).map { u64(headers, $0 * 56 + 8) }.min() ?? 0   // p_offset
        #expect(64 + UInt64(headers.count) <= firstData, "the program headers fit before the first segment's data")
        for i in 0..<8 { header[32 + i] = i == 0 ? 64 : 0; header[40 + i] = 0 }   // e_phoff 64, e_shoff 0
        header[58] = 0; header[59] = 0; header[60] = 0; header[61] = 0; header[62] = 0; header[63] = 0   // e_shentsize, e_shnum, e_shstrndx
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: Data(header) + headers)
    }
}

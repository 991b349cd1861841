import Foundation
import Testing
@testable import KernelLayouts

/// The vmcore readers without a guest: a small ELF core built here (notes, one PT_LOAD whose
/// page tables map the kernel image) read back, its kernel-virtual bytes through init_top_pgt
/// and, without VMCOREINFO, through CPU 0's CR3; every way the headers can lie refused with the
/// error that names it; a flattened kdump file put back in place. The real dumps are
/// LinuxGuestTests' `LinuxVmcoreTests`.
struct VmcoreTests {
    static func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    static func be(_ v: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    static func note(_ name: String, _ desc: [UInt8]) -> [UInt8] {
        var n = Array(name.utf8) + [0]
        let size = n.count
        while n.count % 4 != 0 { n.append(0) }
        var d = desc
        while d.count % 4 != 0 { d.append(0) }
        return le(UInt64(size), 4) + le(UInt64(desc.count), 4) + le(0, 4) + n + d
    }

    /// 16 KiB of RAM at physical 0x200000 whose tables (PML4 at +0x1000) map the 2 MiB page
    /// 0xffffffff80000000 → physical 0x200000 (so the RAM's first byte is the image's); byte i of
    /// the first page is i % 251. With `vmcoreinfo`, VMCOREINFO names init_top_pgt; the QEMU note's
    /// CR3 is `cr3`.
    static func core(vmcoreinfo: Bool = true, cr3: UInt64 = 0x201000, type: UInt16 = 4, phnum: UInt16? = nil) -> [UInt8] {
        let info = "OSRELEASE=6.1.0-test\nBUILD-ID=00112233\nSYMBOL(init_top_pgt)=ffffffff80001000\nNUMBER(phys_base)=2097152\nKERNELOFFSET=0\nSYMBOL(_stext)=ffffffff81000000\n"
        var cpu = le(1, 4) + le(440, 4) + [UInt8](repeating: 0, count: 432)
        cpu.replaceSubrange(392 + 24..<392 + 32, with: le(cr3, 8))
        let notes = note("QEMU", cpu) + (vmcoreinfo ? note("VMCOREINFO", Array(info.utf8)) : [])
        var ram = (0..<16384).map { UInt8($0 % 251) }
        ram.replaceSubrange(0x1000..<0x4000, with: [UInt8](repeating: 0, count: 0x3000))
        ram.replaceSubrange(0x1000 + 511 * 8..<0x1000 + 512 * 8, with: le(0x202003, 8))
        ram.replaceSubrange(0x2000 + 510 * 8..<0x2000 + 511 * 8, with: le(0x203003, 8))
        ram.replaceSubrange(0x3000..<0x3008, with: le(0x200083, 8))
        let noteOffset = 64 + 2 * 56, loadOffset = noteOffset + notes.count
        var h: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        h += le(UInt64(type), 2) + le(62, 2) + le(1, 4) + le(0, 8) + le(64, 8) + le(0, 8) + le(0, 4)
        h += le(64, 2) + le(56, 2) + le(UInt64(phnum ?? 2), 2) + le(64, 2) + le(0, 2) + le(0, 2)
        let pnote = le(4, 4) + le(0, 4) + le(UInt64(noteOffset), 8) + le(0, 8) + le(0, 8) + le(UInt64(notes.count), 8) + le(UInt64(notes.count), 8) + le(0, 8)
        let pload = le(1, 4) + le(0, 4) + le(UInt64(loadOffset), 8) + le(0, 8) + le(0x200000, 8) + le(16384, 8) + le(16384, 8) + le(0, 8)
        return h + pnote + pload + notes + ram
    }

    static func write(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "kmemscope-vmcore-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func error(_ bytes: [UInt8]) throws -> VmcoreError? {
        let path = try write(bytes)
        defer { unlink(path) }
        do { _ = try Vmcore(path: path); return nil } catch { return error }
    }

    @Test func aCoreReadsBackThroughItsOwnPageTables() throws {
        let path = try Self.write(Self.core())
        defer { unlink(path) }
        let dump = try Vmcore(path: path)
        #expect(dump.kind == "ELF core")
        #expect(dump.vmcoreinfo?.osRelease == "6.1.0-test" && dump.vmcoreinfo?.symbol("_stext") == 0xffff_ffff_8100_0000)
        #expect(dump.cpus.first?.registers["cr3"] == 0x201000)
        #expect(dump.kernelPageTable?.cr3 == 0x201000 && dump.kernelPageTable?.source.contains("VMCOREINFO") == true)
        #expect(try dump.physical.read(.guestPhysical, at: 0x200005, count: 3) == [5, 6, 7])
        #expect(try dump.kernelMemory().read(at: 0xffff_ffff_8000_0007, count: 2) == [7, 8])
        #expect(throws: GuestMemoryError.self) { try dump.physical.read(.guestPhysical, at: 0x1fffff, count: 2) }
        #expect(throws: GuestMemoryError.self) { try dump.kernelMemory().read(at: 0xffff_8880_0000_0000, count: 1) }
    }

    @Test func withoutVmcoreinfoCPU0sCR3Translates() throws {
        let path = try Self.write(Self.core(vmcoreinfo: false))
        defer { unlink(path) }
        let dump = try Vmcore(path: path)
        #expect(dump.vmcoreinfo == nil)
        #expect(dump.kernelPageTable?.source.contains("CR3") == true)
        #expect(try dump.kernelMemory().read(at: 0xffff_ffff_8000_0010, count: 1) == [16])
    }

    @Test func lyingHeadersAreRefusedByName() throws {
        let good = Self.core()
        #expect(try Self.error(Array(good.prefix(40))).map { if case .truncated = $0 { true } else { false } } == true)
        guard case .truncated(_, let what, _, _)? = try Self.error(Array(good.prefix(good.count - 100))) else { Issue.record("a cut core"); return }
        #expect(what.contains("PT_LOAD"))
        guard case .wrongKind(_, let reason)? = try Self.error(Self.core(type: 2)) else { Issue.record("ET_EXEC"); return }
        #expect(reason.contains("vmlinux"))
        guard case .wrongKind? = try Self.error(Array("0000000000000000 T _text\n".utf8)) else { Issue.record("a text file"); return }
        // PN_XNUM with no section header 0 to hold the real count
        guard case .corrupt(_, let xnum)? = try Self.error(Self.core(phnum: 0xffff)) else { Issue.record("PN_XNUM"); return }
        #expect(xnum.contains("PN_XNUM"))
        // a note whose descriptor runs past its segment
        var bad = good
        bad[64 + 2 * 56 + 4] = 0xff
        bad[64 + 2 * 56 + 5] = 0xff
        guard case .corrupt(_, let noteReason)? = try Self.error(bad) else { Issue.record("a long note"); return }
        #expect(noteReason.contains("ELF note 0"))
    }

    @Test func aFlattenedFileIsPutBackInPlace() throws {
        var flat = Array("makedumpfile".utf8) + [0, 0, 0, 0] + Self.be(1) + Self.be(1)
        flat += [UInt8](repeating: 0, count: 4096 - flat.count)
        flat += Self.be(8) + Self.be(3) + [1, 2, 3] + Self.be(0) + Self.be(2) + [9, 9] + Self.be(.max) + Self.be(.max)
        let out = try Self.write([])
        defer { unlink(out) }
        let fd = open(out, O_RDWR)
        defer { close(fd) }
        try FlattenedDump.rearrange(ArrayDumpBytes(flat), into: fd)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data([9, 9, 0, 0, 0, 0, 0, 0, 1, 2, 3]))
        // no end marker: truncated
        #expect(throws: VmcoreError.self) { try FlattenedDump.rearrange(ArrayDumpBytes(Array(flat.dropLast(16))), into: fd) }
    }
}

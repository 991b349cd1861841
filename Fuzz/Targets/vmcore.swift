import Glibc
import KernelLayouts

/// libFuzzer target: a vmcore (`--vmcore FILE`) opened and read. The input is the file's bytes,
/// written to a file in /dev/shm: an ELF core goes through the ELF-core parser (program headers,
/// PN_XNUM, notes), VMCOREINFO, QEMU's CPU notes, and reads of physical memory and of
/// kernel-virtual memory through the page tables it holds; a kdump file's header and notes are
/// parsed, a flattened one rearranged. libkdumpfile itself is not fuzzed here (it is a C library
/// of its own; kmemscope hands it only files that passed these checks).

let path = "/dev/shm/kmemscope-fuzz-vmcore-\(getpid())"

func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
func be(_ v: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
func note(_ name: String, _ type: UInt32, _ desc: [UInt8]) -> [UInt8] {
    var n = Array(name.utf8) + [0]
    let namesz = n.count
    while n.count % 4 != 0 { n.append(0) }
    var d = desc
    while d.count % 4 != 0 { d.append(0) }
    return le(UInt64(namesz), 4) + le(UInt64(desc.count), 4) + le(UInt64(type), 4) + n + d
}

/// A small ELF core: VMCOREINFO and one QEMU CPU note, 16 KiB of RAM whose page tables map
/// 0xffffffff80000000 (2 MiB) at physical 0.
func smallCore() -> [UInt8] {
    let info = "OSRELEASE=6.1.0-fuzz\nBUILD-ID=00112233\nPAGESIZE=4096\nSYMBOL(init_top_pgt)=ffffffff80001000\nNUMBER(phys_base)=0\nKERNELOFFSET=0\n"
    var cpu = le(1, 4) + le(440, 4) + [UInt8](repeating: 0, count: 432)
    cpu.replaceSubrange(8 + 16 * 8..<8 + 17 * 8, with: le(0xffff_ffff_8000_0010, 8))   // rip
    cpu.replaceSubrange(392 + 3 * 8..<392 + 4 * 8, with: le(0x1000, 8))                 // cr3
    let notes = note("QEMU", 0, cpu) + note("VMCOREINFO", 0, Array(info.utf8))
    var ram = [UInt8](repeating: 0, count: 16384)
    ram.replaceSubrange(0x1000 + 511 * 8..<0x1000 + 512 * 8, with: le(0x2003, 8))   // PML4E 511 → PDPT
    ram.replaceSubrange(0x2000 + 510 * 8..<0x2000 + 511 * 8, with: le(0x3003, 8))   // PDPTE 510 → PD
    ram.replaceSubrange(0x3000..<0x3008, with: le(0x83, 8))                          // PDE 0: 2 MiB at 0
    let phoff = 64, noteOffset = 64 + 2 * 56, loadOffset = noteOffset + notes.count
    var header = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
    header += le(4, 2) + le(62, 2) + le(1, 4) + le(0, 8) + le(UInt64(phoff), 8) + le(0, 8) + le(0, 4)
    header += le(64, 2) + le(56, 2) + le(2, 2) + le(64, 2) + le(0, 2) + le(0, 2)
    let pnote = le(4, 4) + le(0, 4) + le(UInt64(noteOffset), 8) + le(0, 8) + le(0, 8) + le(UInt64(notes.count), 8) + le(UInt64(notes.count), 8) + le(0, 8)
    let pload = le(1, 4) + le(0, 4) + le(UInt64(loadOffset), 8) + le(0, 8) + le(0, 8) + le(16384, 8) + le(16384, 8) + le(0, 8)
    return header + pnote + pload + notes + ram
}

/// A small flattened kdump file: the makedumpfile header, two records (the kdump header with
/// version 6 and block size 4096; the sub-header pointing at one note), the end marker.
func smallFlattened() -> [UInt8] {
    var main = Array("KDUMP   ".utf8) + le(6, 4) + [UInt8](repeating: 0, count: 452)
    main.replaceSubrange(428..<432, with: le(4096, 4))
    let n = note("VMCOREINFO", 0, Array("OSRELEASE=6.1.0-fuzz\n".utf8))
    let sub = le(0, 8) + le(31, 4) + le(0, 4) + le(0, 8) + le(4, 8) + le(0, 8) + le(0, 8) + le(8192, 8) + le(UInt64(n.count), 8)
    var out = Array("makedumpfile".utf8) + [0, 0, 0, 0] + be(1) + be(1)
    out += [UInt8](repeating: 0, count: 4096 - out.count)
    for (offset, bytes) in [(UInt64(0), main), (UInt64(4096), sub), (UInt64(8192), n)] { out += be(offset) + be(UInt64(bytes.count)) + bytes }
    return out + be(.max) + be(.max)
}

/// With KMEMSCOPE_FUZZ_WRITE_VMCORE=DIR, writes the two seeds there.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    if let dir = getenv("KMEMSCOPE_FUZZ_WRITE_VMCORE") {
        for (name, bytes) in [("core", smallCore()), ("flattened", smallFlattened())] {
            let fd = open(String(cString: dir) + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            if fd >= 0 { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }; close(fd) }
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let input = ArrayDumpBytes(bytes, path: "input")
    _ = try? ElfNote.parse(bytes, path: "input")
    _ = VmcoreInfo(text: String(decoding: bytes, as: UTF8.self)).kernelPageTable
    _ = QEMUCPUState(descriptor: bytes)
    if ElfCore.isELF(bytes) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return 0 }
        if size > 0 { _ = write(fd, data, size) }
        close(fd)
        defer { unlink(path) }
        guard let dump = try? Vmcore(path: path) else { return 0 }
        _ = dump.vmcoreinfo?.symbols
        _ = try? dump.physical.read(.guestPhysical, at: 0, count: 4096)
        _ = try? dump.physical.read(.guestPhysical, at: dump.physicalEnd &- 8, count: 16)
        if let memory = try? dump.kernelMemory() {
            for address: UInt64 in [0xffff_ffff_8000_0000, 0xffff_ffff_8000_1ff8, 0xffff_8880_0000_0000, dump.cpus.first?.registers["rip"] ?? 0] {
                _ = try? memory.read(at: address, count: 16)
            }
        }
    } else {
        _ = try? KdumpHeader(input)
        if FlattenedDump.isFlattened(bytes) {
            let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { return 0 }
            defer { close(fd); unlink(path) }
            // bounded here to 64 MiB of output: a sparse file in /dev/shm per input
            if (try? FlattenedDump.rearrange(input, into: fd, limit: 64 << 20)) != nil {
                _ = try? KdumpHeader(try DumpFileBytes(path: path))
            }
        }
    }
    return 0
}

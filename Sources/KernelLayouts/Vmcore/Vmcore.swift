import Glibc

/// A Linux guest's memory dump, read offline: the ELF core QEMU's `dump-guest-memory` writes
/// (parsed here, ``ElfCore``) or a kdump-compressed file (`dump-guest-memory -z/-l/-s`,
/// makedumpfile; pages through libkdumpfile, ``KdumpMemory``). It gives guest-physical memory,
/// VMCOREINFO when the dump has it, and each CPU's state when QEMU wrote it; kernel-virtual
/// memory is ``kernelMemory()``, the guest's own page tables walked over the physical bytes.
///
/// ```swift
/// let dump = try Vmcore(path: "guest.core")
/// let memory = try dump.kernelMemory()              // kernel-virtual, through init_top_pgt
/// let release = dump.vmcoreinfo?.osRelease         // "6.1.0-57-amd64"
/// ```
public final class Vmcore {
    /// The file as given.
    public let path: String
    /// What kind of dump it is, for messages (`ELF core`, `kdump-compressed (flattened)` …).
    public let kind: String
    /// Guest-physical memory.
    public let physical: any GuestMemory
    /// One past the highest guest-physical address the dump describes.
    public let physicalEnd: UInt64
    /// VMCOREINFO, nil when the guest never told QEMU where it is (no `-device vmcoreinfo`, or
    /// the guest's `qemu_fw_cfg` module not loaded).
    public let vmcoreinfo: VmcoreInfo?
    /// Each CPU's registers from QEMU's notes, in CPU order (empty for a dump QEMU did not write).
    public let cpus: [QEMUCPUState]

    /// Opens `path`, telling the formats apart by their first bytes.
    public init(path: String) throws(VmcoreError) {
        self.path = path
        let file = try DumpFileBytes(path: path)
        guard file.size >= 16 else { throw .truncated(path: path, what: "a dump header", needed: 16, size: file.size) }
        let head = try file.bytes(at: 0, count: 16, what: "the first bytes")
        let notes: [ElfNote]
        if ElfCore.isELF(head) {
            let core = try ElfCore(file)
            let memory = ElfCoreMemory(file: file, core: core)
            physical = memory
            physicalEnd = memory.end
            notes = core.notes
            kind = "ELF core"
            vmcoreinfo = notes.first { $0.name == "VMCOREINFO" }.map { VmcoreInfo(text: String(decoding: $0.descriptor, as: UTF8.self)) }
        } else if KdumpHeader.isKdump(head) || FlattenedDump.isFlattened(head) {
            var real = path
            var temporary: String?
            if FlattenedDump.isFlattened(head) {
                let made = try Self.temporaryFile(for: path)
                temporary = made.path
                defer { close(made.fd) }
                do { try FlattenedDump.rearrange(file, into: made.fd) } catch {
                    unlink(made.path)
                    throw error
                }
                real = made.path
            }
            defer { if let temporary { unlink(temporary) } }   // libkdumpfile keeps its descriptor
            let rearranged = temporary == nil ? file : try DumpFileBytes(path: real)
            notes = try KdumpHeader(RenamedDumpBytes(rearranged, as: path)).notes
            let memory = try KdumpMemory(path: real, displayPath: path)
            physical = memory
            physicalEnd = memory.end
            kind = temporary == nil ? "kdump-compressed" : "kdump-compressed (flattened)"
            vmcoreinfo = memory.vmcoreinfoText.map(VmcoreInfo.init(text:))
                ?? notes.first { $0.name == "VMCOREINFO" }.map { VmcoreInfo(text: String(decoding: $0.descriptor, as: UTF8.self)) }
        } else {
            throw .wrongKind(path: path, reason: "neither an ELF core nor a kdump-compressed file (its first bytes are "
                             + head.prefix(8).map { String(format: "%02x", $0) }.joined() + ")")
        }
        cpus = notes.filter { $0.name == "QEMU" && $0.type == 0 }.compactMap { QEMUCPUState(descriptor: $0.descriptor) }
    }

    /// The page table kernel-virtual addresses are translated through, and where it came from:
    /// VMCOREINFO's `init_top_pgt` (the kernel's own, as crash and drgn use), else CPU 0's CR3.
    public var kernelPageTable: (cr3: UInt64, source: String)? {
        if let table = vmcoreinfo?.kernelPageTable { return (table, "init_top_pgt from VMCOREINFO") }
        if let cr3 = cpus.first?.registers["cr3"] { return (cr3, "CPU 0's CR3 from QEMU's note") }
        return nil
    }

    /// Kernel-virtual memory: the guest's 4-level page tables walked over the dump's physical memory.
    public func kernelMemory() throws(VmcoreError) -> PageTableMemory {
        guard let table = kernelPageTable else {
            throw .corrupt(path: path, reason: "it holds neither VMCOREINFO (init_top_pgt) nor a CPU state (CR3): kernel-virtual addresses cannot be translated")
        }
        return PageTableMemory(physical: physical, cr3: table.cr3, ram: physicalEnd)
    }

    /// An unlinked-on-close temporary file beside the system's others (`TMPDIR`, else /tmp).
    static func temporaryFile(for path: String) throws(VmcoreError) -> (path: String, fd: Int32) {
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(directory)/kmemscope-kdump-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw .cannotOpen(path: path, reason: "cannot make a temporary file in \(directory) to rearrange the flattened dump: \(String(cString: strerror(errno)))")
        }
        return (String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), fd)
    }
}

/// A dump's bytes under the name the user gave (a rearranged temporary file's errors name the original).
struct RenamedDumpBytes<Base: DumpBytes>: DumpBytes {
    let base: Base
    let path: String
    init(_ base: Base, as path: String) {
        self.base = base
        self.path = path
    }
    var size: UInt64 { base.size }
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer, what: String) throws(VmcoreError) {
        do { try base.read(at: offset, into: buffer, what: what) } catch {
            if case let .truncated(_, what, needed, size) = error { throw .truncated(path: path, what: what, needed: needed, size: size) }
            throw error
        }
    }
}

import Foundation
import GDBRemote
import KernelLayouts
import KernelMM
import Testing

/// The kernel's debugger contract, through QEMU's real gdbstub: `kmem_checkpoint` is a place
/// to stop, `kmem_stop_seq` stops the kernel at a sequence number, and `kmem_info` in guest
/// memory describes the layouts and carries the build-id of the ELF.
@Suite("The kernel under a debugger")
struct KernelDebugTests {
    static func image() throws -> KernelImage { try KernelImage(path: DebugBoot.kernel) }

    static func le64(_ b: ArraySlice<UInt8>) -> UInt64 {
        b.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Reads and parses `kmem_info` from guest memory.
    static func kmemInfo(_ target: RemoteTarget, at address: UInt64) throws -> [String: String] {
        let header = try target.readMemory(at: address, count: 16)
        #expect(le64(header[0..<8]) == LayoutDescriptor.magic)
        #expect(le64(header[8..<12]) == UInt64(LayoutDescriptor.version))
        let size = Int(le64(header[12..<16]))
        #expect(size > 1000 && size < LayoutDescriptor.capacity)
        let text = String(decoding: try target.readMemory(at: address + 16, count: size), as: UTF8.self)
        var d: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { d[String(kv[0])] = String(kv[1]) }
        }
        return d
    }

    @Test func checkpointBreakpointAndLayoutDescriptor() throws {
        let image = try Self.image()
        let checkpoint = try image.symbol("kmem_checkpoint").address.rawValue
        let info = try image.symbol("kmem_info").address.rawValue
        let boot = try DebugBoot(append: "seed=1 ops=3000 phases=3")
        defer { boot.stop() }
        let t = boot.target
        try t.setBreakpoint(at: checkpoint)
        _ = try t.continueUntilStop(timeout: .seconds(60))
        #expect(try t.register("rip") == checkpoint)
        #expect(try t.register("rdi") == 1, "the first checkpoint is phase 1")

        let d = try Self.kmemInfo(t, at: info)
        // The guest runs the ELF we read: same build-id.
        let buildID = try #require(image.elf.buildID).bytes.map { String(format: "%02x", $0) }.joined()
        #expect(d["BUILD-ID"] == buildID)
        // The kernel's own measurements agree with the host build and with DWARF.
        #expect(d["SIZE(FrameMeta)"] == "\(MemoryLayout<FrameMeta>.size)")
        #expect(d["OFFSET(Zone.freePages)"] == "\(MemoryLayout<Zone>.offset(of: \.freePages)!)")
        #expect(d["OFFSET(Segment.freeHeads)"] == "\(MemoryLayout<Segment>.offset(of: \.freeHeads)!)")
        let dwarfZone = try image.structLayout(named: "Zone")
        #expect(try "\(dwarfZone.offset(of: "lock"))" == d["OFFSET(Zone.lock)"])
        #expect(d["PCP"] == "0x" + String(try image.symbol("kmem_pcp").address.rawValue, radix: 16))
        // The sequence number in guest memory is where the descriptor says.
        let seqAddress = try #require(d["SEQUENCE"].flatMap { UInt64($0.dropFirst(2), radix: 16) })
        let seq = Self.le64(try t.readMemory(at: seqAddress, count: 8)[0..<8])
        #expect(seq > 500 && boot.serial.contains("kmem: workload seed 1 ops 3000 phases 3"))

        // Continue to the next checkpoint: phase 2, later sequence.
        _ = try t.continueUntilStop(timeout: .seconds(60))
        #expect(try t.register("rdi") == 2)
        #expect(Self.le64(try t.readMemory(at: seqAddress, count: 8)[0..<8]) > seq)
        try t.removeBreakpoint(at: checkpoint)
    }

    @Test func stopAtASequenceNumber() throws {
        let image = try Self.image()
        let checkpoint = try image.symbol("kmem_checkpoint").address.rawValue
        let stopSeq = try image.symbol("kmem_stop_seq").address.rawValue
        let boot = try DebugBoot(append: "seed=2 ops=6000 phases=2")
        defer { boot.stop() }
        let t = boot.target
        // With -S the kernel is not in memory yet (the PVH option ROM copies it): stop at its
        // entry first, then write the variable.
        let kmain = try image.symbol("kmain").address.rawValue
        try t.setBreakpoint(at: kmain, kind: .hardware)
        _ = try t.continueUntilStop(timeout: .seconds(30))
        #expect(try t.register("rip") == kmain)
        try t.removeBreakpoint(at: kmain, kind: .hardware)
        let wanted: UInt64 = 1234
        try t.writeMemory(at: stopSeq, bytes: (0..<8).map { UInt8(truncatingIfNeeded: wanted >> (8 * $0)) })
        try t.setBreakpoint(at: checkpoint)
        _ = try t.continueUntilStop(timeout: .seconds(60))
        #expect(try t.register("rip") == checkpoint)
        let d = try Self.kmemInfo(t, at: try image.symbol("kmem_info").address.rawValue)
        let seqAddress = try #require(d["SEQUENCE"].flatMap { UInt64($0.dropFirst(2), radix: 16) })
        let seq = Self.le64(try t.readMemory(at: seqAddress, count: 8)[0..<8])
        #expect(seq >= wanted && seq < wanted + 20, "stopped at sequence \(seq)")
        #expect(Self.le64(try t.readMemory(at: stopSeq, count: 8)[0..<8]) == 0, "the kernel clears kmem_stop_seq")
        // the workload is still in phase 1 (6000 operations make ~6300 sequence numbers)
        #expect(try t.register("rdi") == 1)
    }
}

import Foundation
import GDBRemote
import KernelLayouts
import StubSupport

/// A scripted stub that plays the bundled kernel's debugger contract for the real kernel ELF:
/// `kmem_info` (with its build-id) at the ELF's address, a sequence word and, optionally, a
/// busy word. `c` runs the "guest" to the end of the operation in progress (busy 0, sequence
/// + 1) and stops with T05, unless `stuck`; an interrupt byte stops it with T02. With `cpuRows`
/// it is a guest of several CPUs (one thread each, `p01.01`…) that publishes its CPUs and their
/// in-operation rows (`CPU_OPS`) but no registers (no `target.xml`): no thread's GS base can
/// be read, so no CPU's thread can be found, and `c` ends every CPU's operation.
final class FakeGuest: @unchecked Sendable {
    static let kernelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("kernel/build/kernel.elf").path

    /// The allocator's root (`KmemState`, 160 bytes): the descriptor's cross-check finds it
    /// through the image's `kmemStateAddress` and needs its magic; `sequence` is at +8 and
    /// `busy` at +152 (DWARF), where `SEQUENCE` and `BUSY` must point.
    static let stateAddress: UInt64 = 0xffff_8880_0010_0000
    static let sequenceAddress: UInt64 = stateAddress + 8
    static let busyAddress: UInt64 = stateAddress + 152
    /// `KmemState.cpuOperations` (+168, DWARF): where `CPU_OPS` must point.
    static let cpuOperationsField: UInt64 = stateAddress + 168

    let kernel: KernelImage
    let stub: ScriptedStub
    private let lock = NSLock()
    private var memory: [UInt64: UInt8] = [:]
    private var running = false
    private var cpuOps: UInt64 = 0
    private let cpuCount: Int

    /// - Parameters:
    ///   - running: the guest was running when the client connected (the stub greets with T02).
    ///   - busy: the busy word, or nil for a kernel that publishes none.
    ///   - stuck: `c` never reaches the end of the operation.
    ///   - cpuRows: each CPU's `CPUOperation.busy` (a guest of `cpuRows.count` CPUs), nil for one CPU.
    init(running: Bool, sequence: UInt64 = 4242, busy: UInt64? = 0, stuck: Bool = false, cpuRows: [UInt64]? = nil) throws {
        kernel = try KernelImage(path: Self.kernelPath)
        cpuCount = cpuRows?.count ?? 1
        let descriptor = try kernel.symbol("kmem_info").address.rawValue
        let id = kernel.elf.buildID!.bytes.map { String(format: "%02x", $0) }.joined()
        var text = "PAGE_SIZE=4096\nSTATE=0x\(String(Self.stateAddress, radix: 16))\nSEQUENCE=0x\(String(Self.sequenceAddress, radix: 16))\n"
        if busy != nil { text += "BUSY=0x\(String(Self.busyAddress, radix: 16))\n" }
        if let cpuRows {
            // as the kernel publishes them (kernel/README.md "Several CPUs", "Operations in progress")
            cpuOps = try kernel.symbol("kmem_cpu_ops").address.rawValue
            let percpu = try kernel.symbol("kmem_percpu").address.rawValue
            text += "CPU_COUNT=\(cpuRows.count)\nCPU_MAX=16\nPERCPU=0x\(String(percpu, radix: 16))\nPERCPU_STRIDE=256\n"
                + "SIZE(PerCPU)=\(try kernel.structLayout(named: "PerCPU").size)\n"
                + "CPU_OPS=0x\(String(cpuOps, radix: 16))\nCPU_OPS_STRIDE=64\nSIZE(CPUOperation)=64\n"
                + "OFFSET(CPUOperation.busy)=0\nOFFSET(CPUOperation.parentSequence)=8\n"
        }
        text += "BUILD-ID=\(id)\n"
        var bytes: [UInt8] = []
        func le(_ v: UInt64, _ n: Int) { for i in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        le(KernelInfo.magic, 8); le(UInt64(KernelInfo.version), 4); le(UInt64(text.utf8.count), 4)
        bytes += Array(text.utf8)
        var image: [UInt64: UInt8] = [:]
        for (i, b) in bytes.enumerated() { image[descriptor + UInt64(i)] = b }
        func word(_ address: UInt64, _ v: UInt64) { for i in 0..<8 { image[address + UInt64(i)] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        for i in 0..<UInt64(176) { image[Self.stateAddress + i] = 0 }
        word(Self.stateAddress, 0x4B4D_454D_5354_4154)   // "KMEMSTAT"
        word(try kernel.symbol("kmemStateAddress").address.rawValue, Self.stateAddress)
        word(Self.sequenceAddress, sequence)
        if let busy { word(Self.busyAddress, busy) }
        if let cpuRows {
            word(Self.cpuOperationsField, cpuOps)
            word(try kernel.symbol("kmem_cpus").address.rawValue, UInt64(cpuRows.count))
            for row in 0..<16 {
                word(cpuOps + UInt64(row) * 64, row < cpuRows.count ? cpuRows[row] : 0)
                word(cpuOps + UInt64(row) * 64 + 8, row < cpuRows.count && cpuRows[row] != 0 ? sequence : 0)
            }
        }
        memory = image
        var handler: ((ScriptedStub.Session, String) -> Void)!
        stub = try ScriptedStub(features: "PacketSize=1000;multiprocess+", greeting: running ? Array("$T02thread:01;#04".utf8) : []) { s, r in handler(s, r) }
        handler = { [unowned self] s, r in self.answer(s, r, stuck: stuck) }
        stub.session.onInterrupt = { [unowned self] in
            self.lock.lock(); defer { self.lock.unlock() }
            if self.running {
                self.running = false
                self.stub.session.reply("T02thread:01;")
            }
        }
    }

    deinit { stub.stop() }

    func u64(_ address: UInt64) -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        return (0..<8).reduce(UInt64(0)) { $0 | UInt64(memory[address + UInt64($1)] ?? 0) << (8 * UInt64($1)) }
    }

    private func setWord(_ address: UInt64, _ v: UInt64) {
        for i in 0..<8 { memory[address + UInt64(i)] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
    }

    private func answer(_ s: ScriptedStub.Session, _ r: String, stuck: Bool) {
        lock.lock(); defer { lock.unlock() }
        if let (address, count) = ScriptedStub.parseRead(r) {
            var out: [UInt8] = []
            for i in 0..<UInt64(count) {
                guard let b = memory[address + i] else { return s.reply("E14") }
                out.append(b)
            }
            s.reply(Hex.string(out))
        } else if r.hasPrefix("Z0,") || r.hasPrefix("z0,") || r == "D;1" || r == "D" {
            s.reply("OK")
        } else if r == "qfThreadInfo" {
            s.reply("m" + (1...cpuCount).map { "p01.0\($0)" }.joined(separator: ","))
        } else if r == "qsThreadInfo" {
            s.reply("l")
        } else if r.hasPrefix("Hg") {
            s.reply("OK")
        } else if r == "c" || r.hasPrefix("vCont;c") {
            running = true
            if !stuck {
                setWord(Self.busyAddress, 0)
                if cpuOps != 0 { for row in 0..<UInt64(16) { setWord(cpuOps + row * 64, 0); setWord(cpuOps + row * 64 + 8, 0) } }
                setWord(Self.sequenceAddress, u64Unlocked(Self.sequenceAddress) + 1)
                running = false
                s.reply("T05thread:01;swbreak:;")
            }
        } else {
            s.reply("")
        }
    }

    private func u64Unlocked(_ address: UInt64) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(memory[address + UInt64($1)] ?? 0) << (8 * UInt64($1)) }
    }
}

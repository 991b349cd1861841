import Foundation
import GDBRemote
import KernelLayouts
import StubSupport

/// A scripted stub that plays the bundled kernel's debugger contract for the real kernel ELF:
/// `kmem_info` (with its build-id) at the ELF's address, a sequence word and, optionally, a
/// busy word. `c` runs the "guest" to the end of the operation in progress (busy 0, sequence
/// + 1) and stops with T05, unless `stuck`; an interrupt byte stops it with T02.
final class FakeGuest: @unchecked Sendable {
    static let kernelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("kernel/build/kernel.elf").path

    /// The allocator's root (`KmemState`, 160 bytes): the descriptor's cross-check finds it
    /// through the image's `kmemStateAddress` and needs its magic; `sequence` is at +8 and
    /// `busy` at +152 (DWARF), where `SEQUENCE` and `BUSY` must point.
    static let stateAddress: UInt64 = 0xffff_8880_0010_0000
    static let sequenceAddress: UInt64 = stateAddress + 8
    static let busyAddress: UInt64 = stateAddress + 152

    let kernel: KernelImage
    let stub: ScriptedStub
    private let lock = NSLock()
    private var memory: [UInt64: UInt8] = [:]
    private var running = false

    /// - Parameters:
    ///   - running: the guest was running when the client connected (the stub greets with T02).
    ///   - busy: the busy word, or nil for a kernel that publishes none.
    ///   - stuck: `c` never reaches the end of the operation.
    init(running: Bool, sequence: UInt64 = 4242, busy: UInt64? = 0, stuck: Bool = false) throws {
        kernel = try KernelImage(path: Self.kernelPath)
        let descriptor = try kernel.symbol("kmem_info").address.rawValue
        let id = kernel.elf.buildID!.bytes.map { String(format: "%02x", $0) }.joined()
        var text = "PAGE_SIZE=4096\nSTATE=0x\(String(Self.stateAddress, radix: 16))\nSEQUENCE=0x\(String(Self.sequenceAddress, radix: 16))\n"
        if busy != nil { text += "BUSY=0x\(String(Self.busyAddress, radix: 16))\n" }
        text += "BUILD-ID=\(id)\n"
        var bytes: [UInt8] = []
        func le(_ v: UInt64, _ n: Int) { for i in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        le(KernelInfo.magic, 8); le(UInt64(KernelInfo.version), 4); le(UInt64(text.utf8.count), 4)
        bytes += Array(text.utf8)
        var image: [UInt64: UInt8] = [:]
        for (i, b) in bytes.enumerated() { image[descriptor + UInt64(i)] = b }
        func word(_ address: UInt64, _ v: UInt64) { for i in 0..<8 { image[address + UInt64(i)] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        for i in 0..<UInt64(160) { image[Self.stateAddress + i] = 0 }
        word(Self.stateAddress, 0x4B4D_454D_5354_4154)   // "KMEMSTAT"
        word(try kernel.symbol("kmemStateAddress").address.rawValue, Self.stateAddress)
        word(Self.sequenceAddress, sequence)
        if let busy { word(Self.busyAddress, busy) }
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
        } else if r == "c" || r.hasPrefix("vCont;c") {
            running = true
            if !stuck {
                setWord(Self.busyAddress, 0)
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

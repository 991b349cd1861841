import GDBRemote
import KernelLayouts

/// The bundled kernel read with no gdbstub at all (`--qmp SOCKET`): QMP stops the guest (and
/// lets it run again afterwards if it ran), QEMU's own memory is read with `process_vm_readv`
/// (RAM placed from `info ramblock`, `info mtree -f` and `gpa2hva`, through QMP's human
/// monitor), registers come from `info registers`. Not settled: a guest stopped inside an
/// allocator operation is read as it stands (said on standard error by the caller).
public final class QMPSession: GuestView {
    public let qmp: QMPClient
    public let kernel: KernelImage
    public private(set) var info: KernelInfo
    public private(set) var memory: any GuestMemory
    /// Whether the guest ran before it was stopped (and is resumed by ``restore()``).
    public let wasRunning: Bool

    /// Stops the guest through QMP at `path` and opens QEMU's memory (process `pid`).
    public init(qmp path: String, pid: Int32, kernel: KernelImage) throws(SessionError) {
        qmp = try QMPClient(path: path)
        self.kernel = kernel
        do {
            wasRunning = try qmp.isRunning()
            if wasRunning { _ = try qmp.execute("stop") }
        } catch {
            throw SessionError(wrapping: error, address: path)
        }
        do {
            let layout = try GuestRAMLayout(ramblock: try qmp.human("info ramblock"), mtree: try qmp.human("info mtree -f"))
            var hosts: [UInt64] = []
            for r in layout.ranges {
                let text = try qmp.human("gpa2hva 0x" + String(r.physicalStart, radix: 16))
                guard let word = text.split(whereSeparator: { $0 == " " || $0.isNewline }).last(where: { $0.hasPrefix("0x") }),
                      let host = UInt64(word.dropFirst(2), radix: 16) else {
                    throw SessionError.other("QEMU's gpa2hva gave no host address: \(text.prefix(200).debugDescription)")
                }
                hosts.append(host)
            }
            // The descriptor first, physically (the kernel image runs at KERNEL_VIRT_BASE + phys),
            // then every read through the kernel's own address map.
            let physical = try QEMUProcessMemory(pid: pid, layout: layout, hostAddresses: hosts, addressMap: nil)
            let symbol = try kernel.symbol("kmem_info").address.rawValue
            let descriptor = try KernelInfo.read(from: PhysicalView(base: physical, offset: 0xffff_ffff_8000_0000), at: symbol)
            info = descriptor
            try info.requireBuildID(kernel.elf.buildID)
            memory = try QEMUProcessMemory(pid: pid, layout: layout, hostAddresses: hosts, addressMap: try KernelAddressMap(info: info))
        } catch {
            if wasRunning { _ = try? qmp.execute("cont") }
            throw SessionError(wrapping: error, address: path)
        }
    }

    /// Lets the guest run again if it ran when the session began.
    public func restore() {
        if wasRunning { _ = try? qmp.execute("cont") }
    }

    /// A register of CPU 0 from `info registers` (`RIP=…`, `CR3=…`).
    public func register(_ name: String) throws -> UInt64 {
        let text = try qmp.human("info registers")
        let key = name.uppercased() + "="
        guard let range = text.range(of: key) else { throw SessionError.other("QMP's info registers shows no \(name)") }
        let digits = text[range.upperBound...].prefix { $0.isHexDigit }
        guard let value = UInt64(digits, radix: 16) else { throw SessionError.other("QMP's info registers: \(name) is not a number") }
        return value
    }
}

/// Kernel-image virtual addresses read physically (`address - offset`), for the descriptor
/// before the address map is known.
struct PhysicalView: GuestMemory {
    let base: QEMUProcessMemory
    let offset: UInt64
    func read(at address: UInt64, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try read(.kernelVirtual, at: address, into: $0) }
        return bytes
    }
    func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        try base.read(.guestPhysical, at: address &- offset, into: buffer)
    }
}

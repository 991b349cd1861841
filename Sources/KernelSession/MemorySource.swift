import GDBRemote
import KernelLayouts

/// Where a session reads guest memory from. The stub always stays the control channel
/// (stop, settle, restore); a faster source only reads, while the guest is stopped.
public enum MemorySource: Sendable, Equatable, CustomStringConvertible {
    /// The QEMU process when it is found and readable (``QEMUProcessFinder``), else the stub.
    case automatic
    /// Pipelined `m` requests through the gdbstub.
    case stub
    /// The guest's RAM file (`memory-backend-file,…,share=on`).
    case file(String)
    /// The QEMU process `pid` (nil: found from the stub's address).
    case process(Int32?)

    public var description: String {
        switch self {
        case .automatic: return "automatic"
        case .stub: return "the gdbstub"
        case .file(let path): return "the guest-RAM file \(path)"
        case .process(let pid): return pid.map { "QEMU's memory (pid \($0))" } ?? "QEMU's memory"
        }
    }
}

/// Opens the sources that need the guest's RAM layout, learned through the stub's monitor
/// (`qRcmd`): `info ramblock`, `info mtree -f` and, for the process, `gpa2hva`.
enum MemorySourceOpener {
    /// Opens `source` for the stub at `address`, held (reads refused while the guest runs).
    /// Kernel-virtual reads translate through `map` (nil: the source reads guest-physical
    /// memory only). Returns nil for the stub, or when `.automatic` finds no local QEMU; a
    /// QEMU found but not readable gives the stub too, with the reason as a warning.
    static func open(_ source: MemorySource, target: RemoteTarget, address: RemoteAddress,
                     map: KernelAddressMap?) throws -> (memory: any GuestMemory, source: MemorySource)? {
        switch source {
        case .stub:
            return nil
        case .file(let path):
            return (HeldMemory(target: target, source: try MemoryFileSource(path: path, layout: try layout(target), addressMap: map)), source)
        case .process(let given):
            guard let pid = given ?? QEMUProcessFinder.pid(serving: address) else {
                throw SessionError.memory(.unusable("no QEMU process found behind \(address) (it is not local, or runs as another user): pass --qemu-pid PID"))
            }
            return (HeldMemory(target: target, source: try process(pid, target, map)), .process(pid))
        case .automatic:
            guard let pid = QEMUProcessFinder.pid(serving: address) else { return nil }
            return (HeldMemory(target: target, source: try process(pid, target, map)), .process(pid))
        }
    }

    static func layout(_ target: RemoteTarget) throws -> GuestRAMLayout {
        try GuestRAMLayout(ramblock: try target.monitor("info ramblock"), mtree: try target.monitor("info mtree -f"))
    }

    static func process(_ pid: Int32, _ target: RemoteTarget, _ map: KernelAddressMap?) throws -> QEMUProcessMemory {
        let layout = try layout(target)
        var hosts: [UInt64] = []
        for r in layout.ranges {
            // "Host virtual address for 0x100000 (pc.ram) is 0x7f…"
            let text = try target.monitor("gpa2hva 0x" + String(r.physicalStart, radix: 16))
            guard let word = text.split(whereSeparator: { $0 == " " || $0.isNewline }).last(where: { $0.hasPrefix("0x") }),
                  text.contains("Host virtual address"), let host = UInt64(word.dropFirst(2), radix: 16) else {
                throw GuestMemoryError.unusable("QEMU's `gpa2hva 0x\(String(r.physicalStart, radix: 16))` gave no host address: \(text.prefix(200).debugDescription)")
            }
            hosts.append(host)
        }
        return try QEMUProcessMemory(pid: pid, layout: layout, hostAddresses: hosts, addressMap: map)
    }
}

/// A source that refuses to read while the guest runs (what it would read could be torn).
struct HeldMemory: GuestMemory {
    let target: RemoteTarget
    let source: any GuestMemory

    func read(at address: UInt64, count: Int) throws -> [UInt8] {
        try read(.kernelVirtual, at: address, count: count)
    }

    func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard !target.isRunning else {
            throw GDBRemoteError.wrongState(operation: "read guest memory", expected: "stopped")
        }
        try source.read(space, at: address, into: buffer)
    }
}

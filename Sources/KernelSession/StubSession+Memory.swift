import GDBRemote
import KernelLayouts

extension StubSession {
    /// Reads guest memory from `source` from now on, for a kernel that publishes no address
    /// windows (Linux): the physical source (the QEMU process, the RAM file) is read through the
    /// guest's own page tables from CR3 (``PageTableMemory``). The translation is checked
    /// before it is trusted: 64 bytes at `probe` (a kernel-virtual address the kernel always
    /// maps, e.g. `linux_banner`) must read the same through it as through the stub. With page
    /// table isolation a guest stopped in user mode has the user half of its PGD pair in CR3:
    /// the kernel half (CR3 with bit 12 clear) is tried next.
    ///
    /// `.automatic` falls back to the stub, with the reason in the returned warning; an
    /// explicit source that cannot be used throws ``SessionError/memory(_:)``.
    /// - Returns: the source in use and a warning for the user, if any.
    @discardableResult
    public func use(_ source: MemorySource, probe: UInt64) throws(SessionError) -> (source: MemorySource, warning: String?) {
        do {
            guard let (physical, chosen) = try MemorySourceOpener.open(source, target: target, address: address, map: nil) else {
                return (.stub, nil)
            }
            let layout = try MemorySourceOpener.layout(target)
            let ram = layout.ranges.map { $0.physicalStart &+ $0.size }.max() ?? 0
            let reference = try stubMemory.read(at: probe, count: 64)
            let cr3 = try target.register("cr3")
            for candidate in Set([cr3, cr3 & ~UInt64(0x1000)]).sorted(by: >) {
                let paged = PageTableMemory(physical: physical, cr3: candidate, ram: ram)
                if (try? paged.read(at: probe, count: 64)) == reference {
                    memory = DebugTrap.wrap(paged)
                    memorySource = chosen
                    return (chosen, nil)
                }
            }
            throw GuestMemoryError.unusable("\(chosen) read through the page tables at CR3 0x\(String(cr3, radix: 16)) does not match the stub at 0x\(String(probe, radix: 16))")
        } catch let e as GuestMemoryError where source == .automatic {
            return (.stub, "reading through the gdbstub (slower): \(e)")
        } catch {
            throw SessionError(wrapping: error, address: address.description)   // a SessionError as it is, a source's as .memory
        }
    }
}

import ArgumentParser
import KernelLayouts
import KernelSession
import LinuxKernel

extension LinuxAttach {
    /// The body on a vmcore (`--vmcore FILE`): the dump's physical memory, kernel-virtual through
    /// the guest's page tables (VMCOREINFO's `init_top_pgt`, else CPU 0's CR3), the registers
    /// from QEMU's CPU note. VMCOREINFO, when the dump has it, is checked against the symbol map
    /// first: a map of another build is refused in one line naming both. Nothing to settle: a
    /// dump is read as it was written. Every error is one line, exit 2.
    static func fromVmcore<T>(_ path: String, _ profile: KernelProfileOptions, map: SymbolMap, types: KernelTypes?,
                              recording: Bool, facts: LinuxReadFacts = LinuxReadFacts(),
                              _ body: (LinuxKernelTarget, Registers) throws -> T) throws -> T {
        facts.source = .stub
        facts.settleStops = 0
        do {
            let dump = try Vmcore(path: path)
            let symbolsPath = profile.symbols ?? ""
            if let info = dump.vmcoreinfo {
                let buildID = isELF(symbolsPath) ? (try? ElfFile(path: symbolsPath))?.buildID?.description : nil
                try VmcoreBuildCheck.check(info, dumpPath: path, map: map, symbolsPath: symbolsPath, buildID: buildID)
            } else {
                StandardError.write("kmemscope: note: \(path) holds no VMCOREINFO (the guest needs -device vmcoreinfo and its qemu_fw_cfg module): "
                                    + "the build is not checked against \(symbolsPath), kernel-virtual addresses go through CPU 0's CR3")
            }
            var memory: any GuestMemory = try dump.kernelMemory()
            if recording {
                let recorder = RecordingMemory(memory, addressMap: KernelAddressMap(windows: []))
                facts.recorder = recorder
                memory = recorder
            }
            let linux = try LinuxKernelTarget(memory: memory, symbols: map, types: types)
            if let limit = profile.listLimit { linux.listLimit = limit }
            // a dump cannot be settled: say when it was taken inside the allocators
            let busy = busyAtDump(dump, linux)
            if !busy.isEmpty {
                StandardError.write("kmemscope: note: the dump was taken while \(busy.joined(separator: "; ")): its lists may be in the middle of a change, "
                                    + "and a violation there may be that moment rather than corruption (a dump cannot be settled)")
            }
            return try body(linux) { name in
                if let value = dump.cpus.first?.registers[name] { return value }
                if name == "cr3", let table = dump.kernelPageTable { return table.cr3 }
                throw SessionError.other("the vmcore \(path) holds no CPU state (QEMU's per-CPU note) with register \(name)")
            }
        } catch let error as VmcoreError {
            StandardError.write("kmemscope: \(error)")
            throw ExitCode(2)
        } catch let error as VmcoreBuildCheck.Mismatch {
            StandardError.write("kmemscope: \(error)")
            throw ExitCode(2)
        } catch let error as SessionError {
            StandardError.write("kmemscope: \(error)")
            throw ExitCode(2)
        }
    }

    /// What the settle rule (docs/linux-checks.md, "Busy guests") would have waited for, as the
    /// dump shows it: each CPU's RIP (QEMU's notes) inside a page or slab allocator function of
    /// the symbol map, each held allocator lock. Empty when nothing was.
    static func busyAtDump(_ dump: Vmcore, _ linux: LinuxKernelTarget) -> [String] {
        let text = AllocatorText(symbols: linux.symbols)
        var busy: [String] = dump.cpus.enumerated().compactMap { cpu, state in
            guard let rip = state.registers["rip"], let function = text.function(containing: rip) else { return nil }
            return "cpu \(cpu) was inside \(function.name) (rip 0x\(String(rip, radix: 16)))"
        }
        var notes: [String] = []
        busy += ((try? linux.heldAllocatorLocks(notes: &notes)) ?? []).map { $0 + " was held" }
        return busy
    }
}

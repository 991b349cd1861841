import ArgumentParser
import Foundation
import GDBRemote
import KernelLayouts
import KernelSession
import LinuxKernel

/// Attaching to a stock Linux guest: the symbol map is read, the stub attached (the guest is
/// left as it was found, as for the bundled kernel), the Linux profile learned (KASLR offset,
/// BTF, layouts), `body` run while the guest is held. Errors print one line and exit 2.
enum LinuxAttach {
    static func run<T>(_ profile: KernelProfileOptions, _ stub: TargetOptions, in context: CommandContext, settling: SettleOptions? = nil,
                       _ body: (LinuxKernelTarget) throws -> T) throws -> T {
        try run(profile, stub, in: context, settling: settling) { linux, _ in try body(linux) }
    }

    /// A register of the stopped CPU (`cr3`…): the stub's, or the one a snapshot stored.
    typealias Registers = (String) throws -> UInt64

    /// ``run(_:_:settling:_:)`` whose body also gets the CPU's registers (vtop's and
    /// kmem's CR3). With `--snapshot FILE` (a `snapshot --kernel linux` file) the guest is the
    /// file's bytes: nothing to settle, and a read of anything it does not hold is refused.
    /// What the read found beside the state goes to `context.linuxRead` (``LinuxReadFacts``).
    /// - Parameter recording: keep every byte read (``LinuxReadFacts/recorder``).
    static func run<T>(_ profile: KernelProfileOptions, _ stub: TargetOptions, in context: CommandContext, settling: SettleOptions? = nil,
                       recording: Bool = false, _ body: (LinuxKernelTarget, Registers) throws -> T) throws -> T {
        let path = profile.symbols ?? ""
        let (map, types) = try symbols(path)
        if let snapshot = stub.snapshot {
            return try fromSnapshot(snapshot, profile, map: map, types: types, facts: context.linuxRead, body)
        }
        if let vmcore = stub.vmcore {
            return try fromVmcore(vmcore, profile, map: map, types: types, recording: recording, facts: context.linuxRead, body)
        }
        if let console = context.linuxConsole, console.target == stub.target {
            return try inConsole(console, profile, stub, map: map, types: types, settle: settling?.settle == true, recording: recording, facts: context.linuxRead, body)
        }
        do {
            let address: RemoteAddress
            do { address = try RemoteAddress.parse(stub.target) } catch { throw SessionError.badAddress(error) }
            let session = try StubSession.attach(to: address, timeout: .seconds(stub.timeout), policy: stub.policy)
            defer { ProgressLine.finish() }
            return try session.read { s in
                try readLive(s, profile, stub, map: map, mayRun: s.found == .running || settling?.settle == true, types: types, recording: recording, facts: context.linuxRead, body)
            }
        } catch let error as SessionError {
            StandardError.write("kmemscope: \(error)")
            throw ExitCode(2)
        }
    }

    /// The body on the console's one connection: a running guest is stopped for the command
    /// (and settled), and runs again after it (``LinuxConsoleSession/commandEnded()``). Errors
    /// are the console's to report (a lost stub drops the session and offers `reconnect`).
    static func inConsole<T>(_ console: LinuxConsoleSession, _ profile: KernelProfileOptions, _ stub: TargetOptions, map: SymbolMap,
                             types: KernelTypes?, settle: Bool, recording: Bool, facts: LinuxReadFacts,
                             _ body: (LinuxKernelTarget, Registers) throws -> T) throws -> T {
        let held = try console.heldGuest()
        return try held.session.read { s in
            try readLive(s, profile, stub, map: map, mayRun: held.mayRun || settle, types: types, recording: recording, facts: facts, body)
        }
    }

    /// The kernel behind a console's fresh connection, checked as every view checks it: the
    /// symbol map's `linux_banner` holds the banner (at the KASLR offset found), the BTF types
    /// load and the allocator's layout comes out of them. Returns the banner's first words
    /// (`Linux version 6.1.0-28-amd64`).
    static func identify(_ s: StubSession, _ profile: KernelProfileOptions, _ stub: TargetOptions) throws -> String {
        let (map, types) = try symbols(profile.symbols ?? "")
        return try s.read { s in
            let linux = try open(s, profile, stub, map: map, types: types, recording: false, facts: LinuxReadFacts())
            let banner = try linux.decoder.readCString(at: try linux.symbols.address(of: "linux_banner"), limit: 256)
            return String(banner.prefix { $0 != "(" && $0 != "\n" }).trimmingCharacters(in: .whitespaces)
        }
    }

    /// The body on a held live guest: the QEMU process or RAM file through the guest's page
    /// tables when it can, else the stub (the translation is checked on `linux_banner` against
    /// the stub first); then settled — a guest that may run (`mayRun`: found running, or
    /// --settle) is run on until no CPU is in the allocators and their locks are free; one
    /// that may not is refused when it is not settled.
    static func readLive<T>(_ s: StubSession, _ profile: KernelProfileOptions, _ stub: TargetOptions, map: SymbolMap, mayRun: Bool,
                            types: KernelTypes?, recording: Bool, facts: LinuxReadFacts, _ body: (LinuxKernelTarget, Registers) throws -> T) throws -> T {
        let linux = try open(s, profile, stub, map: map, types: types, recording: recording, facts: facts)
        let outcome = try LinuxSettler(target: s.target, linux: linux).settle(mayRun: mayRun)
        facts.settleStops = outcome.stops
        for note in outcome.notes { StandardError.write("kmemscope: note: \(note)") }
        if outcome.stops > 1 {
            StandardError.write("kmemscope: settled: the guest ran on \(outcome.stops - 1) time\(outcome.stops == 2 ? "" : "s") until no CPU was inside the page or slab allocator and their locks were free")
        }
        return try body(linux) { name in try s.target.register(name) }
    }

    /// The kernel on a held live guest, before anything is settled: `linux_banner` found (the
    /// KASLR offset), the memory source chosen (checked on the banner against the stub), the BTF
    /// types and layouts read. The source and any recorder go to `facts`.
    static func open(_ s: StubSession, _ profile: KernelProfileOptions, _ stub: TargetOptions, map: SymbolMap,
                     types: KernelTypes?, recording: Bool, facts: LinuxReadFacts) throws -> LinuxKernelTarget {
        let banner = try map.address(of: "linux_banner") &+ (try KASLR.offset(memory: s.stubMemory, symbols: map))
        let (source, warning) = try s.use(stub.source, probe: banner)
        if let warning { StandardError.write("kmemscope: \(warning)") }
        facts.source = source
        var memory: any GuestMemory = ProgressLine.reporter.map { ProgressMemory(base: s.memory, progress: $0) } ?? s.memory
        if recording {
            let recorder = RecordingMemory(memory, addressMap: KernelAddressMap(windows: []))
            facts.recorder = recorder
            memory = recorder
        }
        let linux = try LinuxKernelTarget(memory: memory, symbols: map, types: types)
        if let limit = profile.listLimit { linux.listLimit = limit }
        if linux.kaslrOffset != 0 {
            StandardError.write("kmemscope: KASLR offset 0x\(String(linux.kaslrOffset, radix: 16)) found in the guest (linux_banner), applied to \(profile.symbols ?? "")")
        }
        return linux
    }

    /// The symbol map at `path` (a vmlinux, System.map or kallsyms copy) and a vmlinux's DWARF
    /// types; one line and exit 2 when it cannot be read.
    static func symbols(_ path: String) throws -> (SymbolMap, KernelTypes?) {
        do {
            if isELF(path) {
                // A vmlinux: its symbol table, and its DWARF for the types when it has some.
                return (try SymbolMap(elf: try ElfFile(path: path)), try dwarfTypes(path))
            }
            return (try SymbolMap(parsing: try String(contentsOfFile: path, encoding: .utf8)), nil)
        } catch let error as SymbolMapError {
            StandardError.write("kmemscope: \(path): \(error)")
            throw ExitCode(2)
        } catch {
            StandardError.write("kmemscope: cannot read \(path): \(error)")
            throw ExitCode(2)
        }
    }

    /// The body on a snapshot file of a Linux guest (`kernel: linux` in its header).
    static func fromSnapshot<T>(_ path: String, _ profile: KernelProfileOptions, map: SymbolMap, types: KernelTypes?,
                                facts: LinuxReadFacts = LinuxReadFacts(), _ body: (LinuxKernelTarget, Registers) throws -> T) throws -> T {
        let file: SnapshotFile
        do { file = try SnapshotFile(path: path) } catch {
            StandardError.write("kmemscope: \(error)")
            throw ExitCode(2)
        }
        guard file.header.other.contains(where: { $0.key == "kernel" && $0.value == "linux" }) else {
            StandardError.write("kmemscope: \(path) is a snapshot of the bundled kernel (no 'kernel: linux' in its header): read it without --kernel linux")
            throw ExitCode(2)
        }
        facts.source = .stub
        facts.settleStops = 0
        do {
            let linux = try LinuxKernelTarget(memory: file.memory, symbols: map, types: types)
            if let limit = profile.listLimit { linux.listLimit = limit }
            return try body(linux) { name in
                guard let value = file.header.register(name) else { throw SessionError.other("the snapshot \(path) holds no register \(name)") }
                return value
            }
        } catch let error as SessionError {
            StandardError.write("kmemscope: \(error)")
            throw ExitCode(2)
        }
    }

    /// Every NUMA node with memory state (`node_data[i]`), for the views and the verdict that
    /// read them all (buddyinfo, pagetypeinfo, zones, verify): their ids, node 0 first, and
    /// the context's ``LinuxReadFacts/coverage`` saying so. Called inside the body of ``run``.
    static func allNodes(_ linux: LinuxKernelTarget, in context: CommandContext) throws -> [Int] {
        let nodes = try linux.nodes()
        context.linuxRead.coverage = Coverage()
        context.linuxRead.coverage.covered.append(nodes.ids.count > 1 ? "NUMA nodes \(nodes.ids.map(String.init).joined(separator: ", ")) (every node)" : "NUMA node 0 (the only node)")
        return nodes.ids.isEmpty ? [0] : nodes.ids
    }

    /// The DWARF types of the ELF at `path`, nil when it has none (BTF in guest memory is used).
    static func dwarfTypes(_ path: String) throws -> KernelTypes? {
        let result: Result<DwarfKernelTypes, KernelImageError> = Result { () throws(KernelImageError) in try DwarfKernelTypes(path: path) }
        switch result {
        case .success(let types): return types
        case .failure(.noDWARF): return nil
        case .failure(let error): throw error
        }
    }

    /// Whether `path` starts with the ELF magic.
    static func isELF(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)) == Data([0x7f, 0x45, 0x4c, 0x46])
    }
}

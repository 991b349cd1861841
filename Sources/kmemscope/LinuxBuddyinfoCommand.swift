import ArgumentParser
import Foundation
import LinuxKernel

/// `kmemscope buddyinfo --kernel linux`: a stock Linux guest's /proc/buddyinfo (and, with
/// `--pagetypeinfo`, the per-migratetype free table), decoded from guest memory through the
/// gdbstub, with types from the kernel's own BTF and addresses from a symbol map.
struct LinuxBuddyinfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "buddyinfo",
        abstract: "Show a Linux guest's buddyinfo (free blocks per zone and order), read from its memory.",
        discussion: """
            The symbol map is System.map (from the -dbg package) or a copy of the guest's \
            /proc/kallsyms (boot with nokaslr, or take it from the running guest); it must \
            name node_data, page_offset_base, vmemmap_base, __start_BTF and __stop_BTF. \
            Struct layouts come from the BTF in guest memory.
            """)

    /// The kernels this command decodes.
    enum KernelKind: String, ExpressibleByArgument, CaseIterable {
        case linux
    }

    @Option(help: "The guest's kernel (only 'linux' so far).")
    var kernel: KernelKind = .linux

    @Option(help: ArgumentHelp("System.map or the guest's /proc/kallsyms.", valueName: "file"))
    var symbols: String

    @Flag(help: "Also print /proc/pagetypeinfo's free counts per migratetype.")
    var pagetypeinfo = false

    @Flag(help: "Print how long attaching, reading BTF and decoding took (to standard error).")
    var timing = false

    @OptionGroup var stub: TargetOptions

    func run() throws {
        let map: SymbolMap
        do {
            map = try SymbolMap(parsing: try String(contentsOfFile: symbols, encoding: .utf8))
        } catch let error as SymbolMapError {
            CommandFailure.printToStandardError("kmemscope: \(symbols): \(error)")
            throw ExitCode.failure
        } catch {
            CommandFailure.printToStandardError("kmemscope: cannot read \(symbols): \(error)")
            throw ExitCode.failure
        }
        let clock = ContinuousClock()
        let start = clock.now
        let target = try stub.connect()
        // Detaching lets the guest run again.
        defer { try? target.detach() }
        let attached = clock.now
        do {
            let memory = RemoteTargetMemory(target: target)
            let btf = try BTFTypes.load(from: memory, symbols: map)
            let typed = clock.now
            let layout = try LinuxMMLayout(btf: btf)
            let state = try LinuxFreeAreaDecoder(memory: memory, symbols: map, layout: layout).decode()
            let decoded = clock.now
            print(ProcFreeCounts.buddyinfo(of: state).text)
            if pagetypeinfo {
                print("")
                print("Free pages count per migrate type at order " + (0..<layout.orderCount).map {
                    String(repeating: " ", count: max(0, 6 - String($0).count)) + String($0) + " "
                }.joined())
                print(ProcFreeCounts.pagetypeinfo(of: state).text)
            }
            for zone in state.zones {
                for issue in zone.issues { CommandFailure.printToStandardError("kmemscope: warning: \(issue)") }
            }
            if timing {
                CommandFailure.printToStandardError(
                    "timing: attach \(TimingLine.milliseconds(attached - start)) ms, BTF \(TimingLine.milliseconds(typed - attached)) ms "
                        + "(\(btf.typeCount) types), decode \(TimingLine.milliseconds(decoded - typed)) ms")
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            CommandFailure.printToStandardError("kmemscope: \(error)")
            throw ExitCode.failure
        }
    }
}

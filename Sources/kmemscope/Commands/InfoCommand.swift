import ArgumentParser
import BundledKernel
import KernelLayouts

/// `kmemscope info`: attaches to the guest, reads the kernel's layout descriptor (`kmem_info`),
/// checks that the guest runs the ELF given (build-id) and that the layouts the kernel measured
/// agree with the ELF's DWARF, and prints a summary. Every published field is cross-checked
/// against the ELF when the session attaches (`DescriptorCrossCheck`): a disagreement is exit 2.
struct InfoCommand: GuestCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Attach, check the guest runs this ELF, and summarise its allocator's layout descriptor.",
        discussion: ViewHelp.info)

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions

    func run(in context: CommandContext) throws {
        if profile.isLinux {
            return print(try LinuxAttach.run(profile, stub, in: context) { linux in
                let info = try LinuxInfo(linux)
                return image.json ? try JSONOutput.string(info) : info.text
            })
        }
        let (sequence, info, kernel, crossCheck, cpus, activity) = try GuestSource(image, stub, in: context).read(settling: nil) { s in
            let activity = CPUActivityDecoder(info: s.info, memory: s.memory)
            return (try s.memory.readU64(at: try s.info.number("SEQUENCE")), s.info, s.kernel,
                    try DescriptorCrossCheck(info: s.info, kernel: s.kernel, memory: s.memory),
                    // a snapshot taken before the kernel published its CPUs does not hold their areas
                    (try? CPUTableDecoder(info: s.info, memory: s.memory).decode()) ?? [],
                    (operations: (try? activity.operations()) ?? [], turns: (try? activity.turns()) ?? nil))
        }
        let check = DescriptorCheck(info: info, kernel: kernel)
        let summary = InfoSummary(info: info, sequence: sequence, check: check, crossCheck: crossCheck, elf: kernel.path, cpus: cpus,
                                  cpuOperations: activity.operations, workload: activity.turns)
        print(image.json ? try JSONOutput.string(summary) : summary.text)
        if !check.mismatches.isEmpty { throw ExitCode(1) }
    }
}

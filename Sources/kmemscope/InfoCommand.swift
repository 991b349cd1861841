import ArgumentParser
import KernelLayouts

/// `kmemscope info`: attaches to the guest, reads the kernel's layout descriptor (`kmem_info`),
/// checks that the guest runs the ELF given (build-id) and that the layouts the kernel measured
/// agree with the ELF's DWARF, and prints a summary. The guest runs again afterwards.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Attach, check the guest runs this ELF, and summarise its allocator's layout descriptor.")

    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions

    func run() throws {
        let session = try GuestSession.open(image, stub)
        try session.run(stub) {
            let info = session.info
            let sequence = try session.memory.readU64(at: try info.number("SEQUENCE"))
            let check = DescriptorCheck(info: info, kernel: session.kernel)
            let summary = InfoSummary(info: info, sequence: sequence, check: check, elf: image.elf)
            print(image.json ? try JSONOutput.string(summary) : summary.text)
            if !check.mismatches.isEmpty { throw ExitCode.failure }
        }
    }
}

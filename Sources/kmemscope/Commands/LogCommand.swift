import ArgumentParser
import BundledKernel
import KernelLayouts

/// `kmemscope log`: the most recent entries of the kernel's operation log.
struct LogCommand: GuestCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show the last operations the guest's allocator and heap performed (its operation log).",
        discussion: ViewHelp.log)

    @Option(name: .long, help: "How many of the most recent operations.")
    var last: Int = 20

    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions

    func validate() throws {
        guard last > 0 && last <= 65536 else { throw ValidationError("--last must be 1…65536") }
    }

    func run(in context: CommandContext) throws {
        let (records, bug) = try GuestSource(image, stub, in: context).read(settling: settling) { s in
            let sequence = try s.memory.readU64(at: try s.info.number("SEQUENCE"))
            return (try OpLogDecoder(info: s.info, memory: s.memory).last(last, upTo: sequence), (try? s.haltedAtBug()) ?? nil)
        }
        var lines = records.map(\.text)
        // a kernel halted inside an operation: that operation has no entry yet; say where it stopped
        if let bug, bug.operationInProgress, !records.contains(where: { $0.sequence == bug.sequence }) {
            lines.append("seq \(bug.sequence) (in progress at the halt, no entry: the kernel stopped inside it at its \(bug.headline))")
        }
        print(image.json ? try JSONOutput.string(LogJSON(records)) : lines.joined(separator: "\n"))
    }
}

import ArgumentParser

/// `--kernel` and `--symbols`: which kernel's profile a command decodes the guest with — the
/// bundled kernel (its layout descriptor) or a stock Linux (a symbol map, and BTF from guest
/// memory).
struct KernelProfileOptions: ParsableArguments {
    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case bundled, linux
    }

    @Option(help: "The guest's kernel: the bundled one (default) or a stock Linux (needs --symbols).")
    var kernel: Kind = .bundled

    @Option(help: ArgumentHelp("Linux: System.map (a KASLR offset is found in the guest) or a copy of the guest's /proc/kallsyms.", valueName: "file"))
    var symbols: String?

    @Flag(name: .long, help: "Accept a verdict that covers less than asked (a NUMA node not read, a walk cut at its bound, a snapshot without a region): exit 0 when what was read passed. The verdict still names what it did not cover.")
    var allowPartial = false

    @Option(name: .long, help: ArgumentHelp("Linux: walk at most this many blocks of any one free list (default 4194304); a list cut there is named as not covered.", valueName: "n"))
    var listLimit: Int?

    var isLinux: Bool { kernel == .linux }

    func validate() throws {
        if kernel == .linux && symbols == nil {
            throw ValidationError("--kernel linux needs --symbols FILE (System.map or the guest's /proc/kallsyms)")
        }
        if kernel == .bundled && symbols != nil { throw ValidationError("--symbols goes with --kernel linux") }
        if let listLimit {
            if kernel == .bundled { throw ValidationError("--list-limit goes with --kernel linux") }
            if listLimit < 1 || listLimit > 1 << 30 { throw ValidationError("--list-limit must be 1…\(1 << 30)") }
        }
    }
}

import ArgumentParser

/// Options every command that reads the kernel image shares.
struct ImageOptions: ParsableArguments {
    @Option(name: .long, help: "The kernel image (ELF with symbols, DWARF for layouts).")
    var elf: String = "kernel/build/kernel.elf"

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false
}

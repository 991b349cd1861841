import ArgumentParser
import KernelLayouts
import KernelSession

/// Options every command that reads the kernel image shares.
struct ImageOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The kernel image (ELF with symbols, DWARF for layouts). Default: kernel/build/kernel.elf in the current directory or a parent, or next to the kmemscope executable's checkout.",
        valueName: "path"))
    var elf: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    /// The image's path: `--elf`, or the bundled kernel found by ``KernelImageLocator``.
    func path() throws(SessionError) -> String {
        if let elf { return elf }
        return try KernelImageLocator.locate()
    }

    /// Opens the image.
    func open() throws(SessionError) -> KernelImage {
        let path = try path()
        do {
            return try KernelImage(path: path)
        } catch {
            throw .image(error)
        }
    }
}

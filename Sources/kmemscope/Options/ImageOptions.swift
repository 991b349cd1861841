import ArgumentParser
import KernelLayouts
import KernelSession

/// `--elf`: the kernel image, with one spelling and one help for every command that reads it
/// (through ``ImageOptions`` or ``TextImageOptions``, or on its own: `bisect`).
struct ElfOption: ParsableArguments {
    /// `--elf`'s help, the same wherever it is declared.
    static let help = ArgumentHelp(
        "The kernel image (ELF with symbols, DWARF for layouts). Default: kernel/build/kernel.elf in the current directory or a parent, or next to the kmemscope executable's checkout.",
        valueName: "path")

    @Option(name: .long, help: help)
    var elf: String?

    /// The same image as ``ImageOptions`` (what the session code takes).
    var options: ImageOptions {
        var options = ImageOptions()
        options.elf = elf
        return options
    }
}

/// Options every command that reads the kernel image shares.
struct ImageOptions: ParsableArguments {
    @Option(name: .long, help: ElfOption.help)
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

    /// Opens the image at `path` and refuses one that is not the kmemscope kernel (no
    /// `kmem_info`), naming the file, for commands that boot it (`boot`, `bisect`).
    static func openKmemscopeKernel(_ path: String) throws(SessionError) -> KernelImage {
        let image: KernelImage
        do { image = try KernelImage(path: path) } catch { throw .image(error) }
        guard (try? image.symbol("kmem_info")) != nil else { throw .other(GuestSession.notKmemscopeKernel(path)) }
        return image
    }
}

/// ``ImageOptions`` for the commands whose output is no document (`watch`, `report`, `dump`):
/// `--elf` as everywhere, and a `--json` their help does not list, kept only so that they
/// can refuse it with a sentence that says why.
struct TextImageOptions: ParsableArguments {
    @Option(name: .long, help: ElfOption.help)
    var elf: String?

    @Flag(name: .long, help: ArgumentHelp("Refused: this command prints no JSON.", visibility: .hidden))
    var json = false

    /// The same choice as ``ImageOptions`` (what the session code takes).
    var options: ImageOptions {
        var options = ImageOptions()
        options.elf = elf
        options.json = json
        return options
    }
}

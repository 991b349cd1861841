import ArgumentParser
import KernelLayouts
import KernelSession

/// `kmemscope layout STRUCT…`: struct layouts from the image's DWARF.
struct LayoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layout",
        abstract: "Print a struct's size, alignment and member offsets from the kernel's DWARF.")

    @Argument(help: "Struct names: FrameMeta, Kernel.FrameMeta, Box<UInt64>, or a C struct's tag.")
    var structs: [String]

    @OptionGroup var image: ImageOptions

    @Flag(name: .long, help: "Print how long opening the image and resolving the layouts took (to standard error).")
    var timing = false

    func validate() throws {
        if structs.isEmpty { throw ValidationError("name at least one struct") }
    }

    func run() throws {
        let path = try image.path()
        do {
            let clock = ContinuousClock()
            let start = clock.now
            let kernel = try KernelImage(path: path)
            let opened = clock.now
            let layouts = try structs.map { name throws(KernelImageError) in try kernel.structLayout(named: name) }
            let resolved = clock.now
            if image.json {
                print(try JSONOutput.string(layouts.count == 1 ? AnyEncodable(layouts[0]) : AnyEncodable(layouts)))
            } else {
                print(layouts.map(LayoutTable.text).joined(separator: "\n\n"))
            }
            if timing {
                StandardError.write(TimingLine.text(
                    path: path, open: opened - start, resolve: resolved - opened, count: layouts.count))
            }
        } catch let error as KernelImageError {
            throw SessionError.image(error)
        }
    }
}

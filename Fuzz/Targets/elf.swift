import Glibc
import KernelLayouts

/// libFuzzer target: the ELF front (libelf symbols, sections, build-id; libdw struct layouts)
/// on mutated kernel images. The input is written to a file in /dev/shm (the wrappers take a
/// path) and opened as the CLI opens `--elf`.
let path = "/dev/shm/kmemscope-fuzz-elf-\(getpid())"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("cannot write \(path)") }
    var written = 0
    while written < size, let data {
        let n = write(fd, data + written, size - written)
        guard n > 0 else { break }
        written += n
    }
    close(fd)
    guard let image = try? KernelImage(path: path) else { return 0 }
    _ = image.elf.buildID
    _ = image.elf.loadSegments
    for s in image.elf.symbols.prefix(16) {
        _ = image.elf.physicalAddress(of: s.address)
        _ = try? image.symbolicate(s.address)
    }
    _ = try? image.symbol("kmem_info")
    _ = try? image.address(ofGlobal: "kmemStateAddress")
    for name in ["FrameMeta", "Zone", "Segment", "KmemState", "PerCPUPages", "SlabCache"] {
        if let layout = try? image.structLayout(named: name) { _ = layout.members.count }
    }
    return 0
}

import Glibc
import KernelLayouts

/// libFuzzer target: a snapshot file (`kmemscope snapshot -o`) opened and read. The input is
/// the file's bytes, written to a file in /dev/shm (the reader maps a file); whatever the
/// checks let through is then read back at each region's edges and past them.

/// A guest whose physical byte at `a` is `a % 251` (for the seed).
struct PatternMemory: GuestMemory {
    func read(at address: UInt64, count: Int) throws -> [UInt8] { try read(.kernelVirtual, at: address, count: count) }
    func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        for i in 0..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: (address &+ UInt64(i)) % 251) }
    }
}

let path = "/dev/shm/kmemscope-fuzz-snapfile-\(getpid())"

/// With KMEMSCOPE_FUZZ_WRITE_SNAPSHOT=PATH, writes a small valid snapshot there (the seed).
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    if let seed = getenv("KMEMSCOPE_FUZZ_WRITE_SNAPSHOT") {
        let map = KernelAddressMap(windows: [.init(virtualStart: 0xffff_8880_0000_0000, size: 1 << 40, physicalStart: 0)])
        let recorder = RecordingMemory(PatternMemory(), addressMap: map)
        _ = try? recorder.read(at: 0xffff_8880_0000_1000, count: 64)
        _ = try? recorder.read(.guestPhysical, at: 0x3000, count: 32)
        _ = try? recorder.read(at: 0x10, count: 8)
        var header = SnapshotHeader()
        header.buildID = "00112233"
        header.windows = map.windows
        header.registers = [("cr3", 0x1000)]
        let fd = open(String(cString: seed), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd >= 0 {
            _ = try? SnapshotFileWriter.write(header, (try? recorder.stretches()) ?? [], to: fd, path: String(cString: seed))
            close(fd)
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    if let data, size > 0 { _ = write(fd, data, size) }
    close(fd)
    defer { unlink(path) }
    guard let file = try? SnapshotFile(path: path) else { return 0 }
    let memory = file.memory
    _ = file.header.text
    for r in file.regions.prefix(64) {
        for (address, count) in [(r.address, 1), (r.end &- 1, 1), (r.address, Int(min(r.length, 4096))), (r.end, 1), (r.address &- 1, 2)] {
            _ = try? memory.read(r.space, at: address, count: count)
        }
        _ = try? memory.read(at: r.address, count: 8)
    }
    return 0
}

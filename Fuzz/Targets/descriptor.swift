import BundledChecks
import BundledState
import AllocatorText
import Glibc
import BundledKernel
import KernelLayouts

/// libFuzzer target: the layout descriptor parser (`kmem_info`: header and KEY=VALUE text),
/// then the snapshot and op-log decoders under that descriptor over the arena's valid memory.
/// The input is the descriptor as it sits in guest memory; the seed is the arena's own.
let arena = FuzzArena()

/// With KMEMSCOPE_FUZZ_WRITE_DESCRIPTOR=PATH, writes the arena's descriptor there (the seed).
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    if let path = getenv("KMEMSCOPE_FUZZ_WRITE_DESCRIPTOR"), let f = fopen(path, "wb") {
        _ = arena.descriptor.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? [UInt8](UnsafeBufferPointer(start: data, count: size)) : []
    let memory = PatchedMemory(base: arena.base, bytes: arena.pristine, patches: [])
    let input = PatchedMemory(base: 0x1000, bytes: bytes, patches: [])
    guard let info = try? KernelInfo.read(from: input, at: 0x1000) else { return 0 }
    _ = info.offsets
    _ = info.buildID
    _ = try? info.requireBuildID(nil)
    for e in info.entries.prefix(64) { _ = try? info.number(e.key) }
    guard let snapshot = try? SnapshotDecoder(info: info, memory: memory).decode() else { return 0 }
    _ = Verifier(snapshot).run()
    let view = snapshot.allocatorView(FreeListCensus(snapshot))
    _ = ProcText.zoneinfo(view)
    _ = ProcText.buddyinfo(view)
    _ = try? OpLogDecoder(info: info, memory: memory).last(64, upTo: snapshot.sequence)
    return 0
}

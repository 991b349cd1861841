import AllocatorText
import BundledChecks
import BundledState
import BundledKernel
import KernelLayouts

/// libFuzzer target: the snapshot decoder, the verifier, the views and the op-log decoder
/// over corrupted guest memory under a valid layout descriptor. The input is a list of
/// patches, each `anchor u8, offset u32, length u8, bytes`: laid at `offset` (modulo 512 KiB)
/// past one of the allocator's structures (an address the descriptor or a segment names).
let arena = FuzzArena()
let info = try! KernelInfo(address: 0, header: Array(arena.descriptor[0..<16]), text: Array(arena.descriptor[16...]))
/// Offsets (from the arena's base) of the structures the descriptor and the segments point at.
let anchors: [Int] = {
    let end = arena.base + UInt64(arena.pristine.count)
    var set = Set<UInt64>()
    for e in info.entries { if let v = try? info.number(e.key), v >= arena.base, v < end { set.insert(v - arena.base) } }
    if let seg = try? info.number("SEGMENTS"), let size = try? info.size(of: "Segment"), let n = try? info.number("SEGMENT_CAPACITY") {
        let o = Int(seg - arena.base)
        for i in stride(from: o, to: min(o + Int(size * n), arena.pristine.count - 8), by: 8) {
            let v = (0..<8).reduce(UInt64(0)) { $0 | UInt64(arena.pristine[i + $1]) << (8 * UInt64($1)) }
            if v >= arena.base, v < end { set.insert(v - arena.base) }
        }
    }
    return set.sorted().map { Int($0) }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = InputReader(data, size)
    var patches: [(offset: Int, bytes: ArraySlice<UInt8>)] = []
    while !input.isEmpty && patches.count < 64 {
        let anchor = anchors[Int(input.byte()) % anchors.count]
        let offset = anchor + Int(input.u32() % (512 << 10))
        let bytes = input.take(Int(input.byte() % 17))
        patches.append((offset, bytes))
    }
    let memory = PatchedMemory(base: arena.base, bytes: arena.pristine, patches: patches)
    guard let snapshot = try? SnapshotDecoder(info: info, memory: memory).decode() else { return 0 }
    _ = Verifier(snapshot).run()
    let census = FreeListCensus(snapshot)
    let view = snapshot.allocatorView(census)
    _ = ProcText.buddyinfo(view)
    _ = ProcText.pagetypeinfo(view)
    _ = ProcText.zoneinfo(view)
    _ = ProcText.slabinfo(view)
    _ = ZoneTableText.text(view)
    for p in patches.prefix(4) { _ = FrameReport(snapshot, pfn: UInt64(p.offset / 64)) }
    _ = try? OpLogDecoder(info: info, memory: memory).last(64, upTo: snapshot.sequence)
    return 0
}

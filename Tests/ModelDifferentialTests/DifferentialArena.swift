import KernelHarness
import KernelMM

/// The arenas the differential tests run on: the shared host harness (`HostArena`) with the
/// small or the standard map and an operation log long enough to replay a whole storm.
extension HostArena {
    /// RAM held back for a hot-add (`hotadd=`) in each map: it straddles the DMA32/Normal limit,
    /// so adding it makes two segments.
    static func heldBack(large: Bool) -> PhysRange {
        large ? PhysRange(start: 0xB0_0000, end: 0xD0_0000) : PhysRange(start: 0x3C_0000, end: 0x48_0000)
    }

    /// The small map (6 MiB, 8192 log entries) or the standard one (24 MiB, 65536 entries).
    static func differential(large: Bool = false, poison: Bool = false, hotAdd: Bool = false) throws -> HostArena {
        try HostArena(map: large ? .standard : .small, poison: poison, opLogCapacity: large ? 65536 : 8192,
                      heldBack: hotAdd ? heldBack(large: large) : PhysRange(start: 0, end: 0))
    }
}

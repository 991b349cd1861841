import AllocatorModel
import BundledState
import AllocatorText

/// `kmemscope report` for the bundled kernel: the snapshot's frames as map cells (every
/// pageblock, or every frame when there are few enough, coloured by what it holds), its zones
/// and segments as bands, verify's violations as marks; ``MemoryMapPage`` is what it fills
/// (see MemoryMapReport+Page.swift) and ``MemoryMapHTML`` draws it.
public enum MemoryMapReport {
    /// What a cell shows (kernel-neutral: ``MemoryMapPage/CellClass``).
    public typealias CellClass = MemoryMapPage.CellClass

    /// Frames per cell: 1 while the guest has at most this many frames, more above
    /// (``MemoryMapLayout/framesPerCell(for:)``).
    public static let frameCellLimit = Int(MemoryMapLayout.maxCells)
    /// How the cells are laid out on the page.
    public typealias Grid = MemoryMapLayout

    /// The grid for a snapshot.
    public static func grid(_ s: KernelSnapshot) -> Grid {
        let frames = UInt64(s.frames.count)
        return Grid(frameCount: frames)
    }

    /// Each frame's class, in PFN order (one linear pass; a free block's interior frames take
    /// its head's order).
    public static func frameClasses(_ s: KernelSnapshot, violations: Set<UInt64>) -> [CellClass] {
        let f = s.flags
        var out = [CellClass](repeating: .hole, count: s.frames.count)
        let segmentOf: (UInt64) -> Bool = { pfn in s.segments.contains { pfn >= $0.startPFN && pfn < $0.endPFN } }
        var freeOrder = 0, freeLeft: UInt64 = 0
        var blockClass = CellClass.hole, blockLeft: UInt64 = 0
        for i in 0..<s.frames.count {
            let pfn = UInt64(i)
            guard let m = s.frames[pfn] else { continue }
            let c: CellClass
            if violations.contains(pfn) {
                c = .violation
            } else if m.zone == 0xFF {
                c = .hole
            } else if m.flags & f.free != 0 {
                if m.flags & f.head != 0, m.order <= 63 { freeOrder = Int(m.order); freeLeft = 1 << UInt64(m.order) }
                c = freeLeft > 0 && freeOrder >= s.pageblockOrder ? .freeLarge : .freeSmall
            } else if m.flags & f.pcp != 0 {
                c = .perCPU
            } else if m.flags & f.allocated != 0 {
                if m.flags & f.head != 0, m.order <= 63 {
                    blockLeft = 1 << UInt64(m.order)
                    blockClass = m.flags & f.slab != 0 ? .slab
                        : m.owner == ModelState.largeHeapOwner ? .largeHeap
                        : m.migratetype == 1 ? .allocatedMovable : .allocatedUnmovable
                }
                c = blockLeft > 0 ? blockClass : .allocatedUnmovable
            } else if m.flags & f.reserved != 0 {
                c = f.poisoned != 0 && m.flags & f.poisoned != 0 ? .quarantined : (m.segment != 0xFFFF && segmentOf(pfn) ? .reserved : .bootReserved)
            } else {
                c = .bootReserved  // RAM with no state: held back for a hot-add
            }
            if freeLeft > 0 { freeLeft -= 1 }
            if blockLeft > 0 { blockLeft -= 1 }
            out[i] = c
        }
        return out
    }

    /// Each cell's class: the frame's, or a pageblock's most common (a violation anywhere in it wins).
    public static func cellClasses(_ s: KernelSnapshot, violations: Set<UInt64>) -> [CellClass] {
        cellClasses(frameClasses(s, violations: violations), grid: grid(s))
    }

    /// Cells from per-frame classes.
    static func cellClasses(_ frames: [CellClass], grid g: Grid) -> [CellClass] {
        MemoryMapPage.cells(frames, framesPerCell: g.framesPerCell)
    }
}

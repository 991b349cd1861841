import AllocatorView

extension MemoryMapPage {
    /// Most frames a page drawn from a view covers (256 GiB of 4 KiB pages; one byte each).
    public static let viewFrameLimit: UInt64 = 1 << 26

    /// Each frame's class from a kernel-neutral view, for kernels whose every frame is not
    /// decoded (Linux): outside every zone span a hole; inside, ``CellClass/notFree`` unless a
    /// free list holds it (free, by its block's order) or a per-CPU list does. `violations`
    /// are drawn as such. Bounded: at most ``viewFrameLimit`` frames, orders below 32.
    public static func frameClasses(_ view: AllocatorView, violations: Set<UInt64>) -> [CellClass] {
        let end = min(view.zones.map(\.endPFN).max() ?? 0, viewFrameLimit)
        var out = [CellClass](repeating: .hole, count: Int(end))
        let largeOrder = view.pageblockOrder ?? 9
        // a zone's span is guest data: an end below its start (a spanned count that wrapped) is empty
        for z in view.zones where z.populated && z.startPFN < end {
            for p in z.startPFN..<max(z.startPFN, min(z.endPFN, end)) { out[Int(p)] = .notFree }
            for area in z.freeAreas where area.order < 32 {
                let size = UInt64(1) << UInt64(area.order)
                for list in area.lists {
                    for head in list.blockPFNs ?? [] where head < end {
                        for p in head..<min(head + size, end) { out[Int(p)] = area.order >= largeOrder ? .freeLarge : .freeSmall }
                    }
                }
            }
            for cpu in z.perCPU {
                for list in cpu.lists ?? [] { for p in list.pages where p < end { out[Int(p)] = .perCPU } }
            }
        }
        for p in violations where p < end { out[Int(p)] = .violation }
        return out
    }

    /// A page from a kernel-neutral view: the map from ``frameClasses(_:violations:)``, the
    /// zones as bands (and the segments where the view has them), the marks as given.
    public static func page(_ view: AllocatorView, title: String, marks: [Mark], banner: [String] = [],
                            sections: [(String, String)]) -> MemoryMapPage {
        let frames = frameClasses(view, violations: Set(marks.compactMap(\.pfn)))
        let perCell = MemoryMapLayout.framesPerCell(for: UInt64(frames.count))
        let zones = view.zones.filter { $0.populated && $0.endPFN > $0.startPFN }
        let checks = Array(Set(marks.map(\.check))).sorted()
        let verdict = marks.isEmpty ? "verify: all checks passed"
            : "verify: \(marks.count) violation(s) in \(checks.joined(separator: ", ")) — ringed on the map, listed on the right"
        return MemoryMapPage(
            title: title, verdict: verdict, passed: marks.isEmpty, banner: banner, frameCount: UInt64(frames.count),
            pageSize: view.pageSize, framesPerCell: perCell, cells: cells(frames, framesPerCell: perCell),
            zones: zones.map { Band(name: $0.name, start: $0.startPFN, end: $0.endPFN) },
            segments: zones.flatMap { z in (z.segments ?? []).map { Band(name: "\($0.index)", start: $0.startPFN, end: $0.endPFN) } },
            runs: runs(frames), marks: marks, sections: sections)
    }
}

/// `kmemscope report`: one self-contained HTML page (no network, no external file) with the
/// zone table, buddyinfo, the verify summary and violations, and a picture of physical memory
/// in which every pageblock (or every frame, when there are few enough) is a cell coloured by
/// what it holds. Hovering a cell names its frames, zone and class.
public enum MemoryMapReport {
    /// What a cell shows, most important last (a pageblock shows its most common class; a tie
    /// goes to the later one).
    public enum CellClass: Int, CaseIterable, Sendable {
        case hole, bootReserved, reserved, quarantined, perCPU, freeSmall, freeLarge
        case allocatedUnmovable, allocatedMovable, slab, largeHeap, violation

        /// The cell's colour, `#rrggbb` (the screenshot test reads these back).
        public var color: String {
            switch self {
            case .hole: return "#202020"
            case .bootReserved: return "#8c8c8c"
            case .reserved: return "#b0a070"
            case .quarantined: return "#ff8c00"
            case .perCPU: return "#ffd700"
            case .freeSmall: return "#66cc66"
            case .freeLarge: return "#1b8a1b"
            case .allocatedUnmovable: return "#2850c8"
            case .allocatedMovable: return "#78a0f0"
            case .slab: return "#9b59b6"
            case .largeHeap: return "#d048a0"
            case .violation: return "#ff0000"
            }
        }

        public var label: String {
            switch self {
            case .hole: return "hole (no RAM)"
            case .bootReserved: return "boot-reserved / unmanaged"
            case .reserved: return "reserved (reserveRange)"
            case .quarantined: return "quarantined (poison overwritten)"
            case .perCPU: return "per-CPU cached"
            case .freeSmall: return "free, order < 9"
            case .freeLarge: return "free, order ≥ 9"
            case .allocatedUnmovable: return "allocated, unmovable"
            case .allocatedMovable: return "allocated, movable"
            case .slab: return "slab page"
            case .largeHeap: return "large heap block"
            case .violation: return "violation (verify)"
            }
        }
    }

    /// Frames per cell: 1 while the guest has at most `frameCellLimit` frames, a pageblock above.
    public static let frameCellLimit = 65536
    /// Layout of the picture (fixed, so a screenshot can be read back).
    public static let mapLeft = 16, mapTop = 16, mapWidth = 1024

    /// How the cells are laid out.
    public struct Grid: Sendable, Equatable {
        public var framesPerCell: UInt64
        public var cellCount: Int
        public var columns: Int
        public var cellSize: Int
        public var rows: Int { (cellCount + columns - 1) / columns }

        /// The pixel at the centre of the cell holding `pfn` (page coordinates).
        public func center(of pfn: UInt64) -> (x: Int, y: Int) {
            let cell = Int(pfn / framesPerCell)
            return (MemoryMapReport.mapLeft + (cell % columns) * cellSize + cellSize / 2,
                    MemoryMapReport.mapTop + (cell / columns) * cellSize + cellSize / 2)
        }
    }

    /// The grid for a snapshot.
    public static func grid(_ s: KernelSnapshot) -> Grid {
        let frames = UInt64(s.frames.count)
        let perCell: UInt64 = frames <= UInt64(frameCellLimit) ? 1 : 1 << UInt64(s.pageblockOrder)
        let cells = Int((frames + perCell - 1) / perCell)
        let cellSize = perCell == 1 ? 4 : 16
        return Grid(framesPerCell: perCell, cellCount: cells, columns: mapWidth / cellSize, cellSize: cellSize)
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
        let frames = frameClasses(s, violations: violations)
        let g = grid(s)
        guard g.framesPerCell > 1 else { return frames }
        var cells: [CellClass] = []
        cells.reserveCapacity(g.cellCount)
        var counts = [Int](repeating: 0, count: CellClass.allCases.count)
        for start in stride(from: 0, to: frames.count, by: Int(g.framesPerCell)) {
            for k in counts.indices { counts[k] = 0 }
            for c in frames[start..<min(frames.count, start + Int(g.framesPerCell))] { counts[c.rawValue] += 1 }
            if counts[CellClass.violation.rawValue] > 0 { cells.append(.violation); continue }
            var best = 0
            for k in counts.indices where counts[k] >= counts[best] { best = k }
            cells.append(CellClass(rawValue: best)!)
        }
        return cells
    }

    /// The page.
    public static func html(_ s: KernelSnapshot, report: VerifyReport, title: String) -> String {
        let violations = Set(report.violations.compactMap(\.pfn))
        let cells = cellClasses(s, violations: violations)
        let g = grid(s)
        let codes = String(cells.map { Character(UnicodeScalar(UInt8(97 + $0.rawValue))) })
        let colors = CellClass.allCases.map { "\"\($0.color)\"" }.joined(separator: ",")
        let labels = CellClass.allCases.map { "\"\(escape($0.label, script: true))\"" }.joined(separator: ",")
        let zones = s.zones.map { "[\($0.startPFN),\($0.endPFN),\"\(escape($0.name, script: true))\"]" }.joined(separator: ",")
        let legend = CellClass.allCases.map {
            "<span class=\"key\"><span class=\"sw\" style=\"background:\($0.color)\"></span>\(escape($0.label))</span>"
        }.joined(separator: "\n")
        let census = FreeListCensus(s)
        let violationRows = report.violations.prefix(200).map { "<tr><td>\(escape($0.text))</td></tr>" }.joined(separator: "\n")
        let unit = g.framesPerCell == 1 ? "frame" : "pageblock (\(g.framesPerCell) frames)"
        let mapHeight = g.rows * g.cellSize
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body { margin: 0; font: 13px/1.4 ui-monospace, Menlo, Consolas, monospace; color: #111; background: #fff; }
        #map { position: absolute; left: \(mapLeft)px; top: \(mapTop)px; image-rendering: pixelated; }
        #below { position: absolute; left: \(mapLeft)px; top: \(mapTop + mapHeight + 16)px; width: \(mapWidth)px; }
        #tip { position: fixed; pointer-events: none; background: #ffffe0; border: 1px solid #888; padding: 2px 6px; display: none; }
        .key { display: inline-block; margin: 0 14px 4px 0; } .sw { display: inline-block; width: 12px; height: 12px; vertical-align: -2px; margin-right: 4px; border: 1px solid #555; }
        pre { background: #f4f4f4; padding: 8px; overflow-x: auto; } table { border-collapse: collapse; } td { padding: 1px 6px; }
        h1 { font-size: 16px; } h2 { font-size: 14px; margin-top: 18px; }
        </style></head><body>
        <canvas id="map" width="\(mapWidth)" height="\(mapHeight)"></canvas>
        <div id="tip"></div>
        <div id="below">
        <h1>\(escape(title))</h1>
        <p>sequence \(s.sequence) · \(s.frames.count) frames · one cell per \(unit) · verify: \(report.passed ? "all checks passed" : "\(report.total) violation(s) in " + report.failedChecks.map(\.rawValue).joined(separator: ", "))</p>
        <div>\(legend)</div>
        <h2>Zones</h2>
        <pre>\(escape(ZoneTable.text(s)))</pre>
        <h2>/proc/buddyinfo</h2>
        <pre>\(escape(ProcViews.buddyinfo(s, census)))</pre>
        <h2>Verify</h2>
        <pre>\(escape(VerifySummary.text(s, report)))</pre>
        <table>\(violationRows)</table>
        </div>
        <script>
        const cells = "\(codes)", colors = [\(colors)], labels = [\(labels)], zones = [\(zones)];
        const per = \(g.framesPerCell), cols = \(g.columns), size = \(g.cellSize);
        const ctx = document.getElementById("map").getContext("2d");
        for (let i = 0; i < cells.length; i++) {
          ctx.fillStyle = colors[cells.charCodeAt(i) - 97];
          ctx.fillRect((i % cols) * size, Math.floor(i / cols) * size, size, size);
        }
        const tip = document.getElementById("tip"), map = document.getElementById("map");
        const hex = n => "0x" + n.toString(16);
        map.addEventListener("mousemove", e => {
          const r = map.getBoundingClientRect();
          const i = Math.floor((e.clientY - r.top) / size) * cols + Math.floor((e.clientX - r.left) / size);
          if (i < 0 || i >= cells.length) { tip.style.display = "none"; return; }
          const pfn = i * per, zone = zones.find(z => pfn >= z[0] && pfn < z[1]);
          tip.textContent = (per === 1 ? "pfn " + hex(pfn) : "pfn " + hex(pfn) + "–" + hex(pfn + per - 1)) +
            (zone ? " · zone " + zone[2] : "") + " · " + labels[cells.charCodeAt(i) - 97];
          tip.style.left = (e.clientX + 12) + "px"; tip.style.top = (e.clientY + 12) + "px"; tip.style.display = "block";
        });
        map.addEventListener("mouseleave", () => { tip.style.display = "none"; });
        </script>
        </body></html>
        """
    }

    /// Text made safe for HTML; with `script`, for a JavaScript string in double quotes too
    /// (no line breaks, no backslash).
    static func escape(_ s: String, script: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\\" where script: out += "&#92;"
            case "\n" where script, "\r" where script: out += " "
            default: out.append(c)
            }
        }
        return out
    }
}

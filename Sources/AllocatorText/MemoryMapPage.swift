/// What `kmemscope report` draws, in terms any kernel can fill: one class per cell of the map,
/// the zone and segment bands, the violations to ring and list (each with its frame's decode),
/// the verdict and, for a kernel halted at its own BUG, the post-mortem banner. The bundled
/// kernel's producer is `MemoryMapReport` (BundledKernel); ``MemoryMapHTML`` renders it.
public struct MemoryMapPage: Sendable {
    /// What a cell shows, most important last (a pageblock shows its most common class; a tie
    /// goes to the later one).
    public enum CellClass: Int, CaseIterable, Sendable {
        case hole, bootReserved, notFree, reserved, quarantined, perCPU, freeSmall, freeLarge
        case allocatedUnmovable, allocatedMovable, slab, largeHeap, violation

        /// The cell's colour, `#rrggbb` (the screenshot tests read these back).
        public var color: String {
            switch self {
            case .hole: return "#202020"
            case .bootReserved: return "#8c8c8c"
            case .notFree: return "#5b6b8a"
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
            case .notFree: return "in a zone, on no free list (in use or reserved: Linux)"
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

        /// Holes and reserved memory: listed as ranges beside the map.
        public var isHoleOrReserved: Bool { self == .hole || self == .bootReserved || self == .reserved || self == .quarantined }
    }

    /// A named PFN range `[start, end)`: a zone or a segment.
    public struct Band: Sendable, Equatable {
        public var name: String
        public var start: UInt64
        public var end: UInt64
        public init(name: String, start: UInt64, end: UInt64) {
            self.name = name
            self.start = start
            self.end = end
        }
    }

    /// A run of frames of one hole or reserved class.
    public struct Run: Sendable, Equatable {
        public var cellClass: CellClass
        public var start: UInt64
        public var end: UInt64
        public init(_ cellClass: CellClass, start: UInt64, end: UInt64) {
            self.cellClass = cellClass
            self.start = start
            self.end = end
        }
    }

    /// One violation: ringed on the map when it names a frame, listed beside it.
    public struct Mark: Sendable, Equatable {
        /// The check's identifier (`free-list-membership`, `kernel-bug`…).
        public var check: String
        public var pfn: UInt64?
        /// The violation as verify prints it.
        public var text: String
        /// For a post-mortem: where it lies with respect to the operation in progress.
        public var note: String?
        /// The frame's decode (flags, block, lists, the operation that last changed it).
        public var decode: String?
        /// For a violation of no one frame (a counter, a list): the PFN range `[start, end)` of the
        /// segment or zone it is about, bracketed beside the map's rows.
        public var span: Band?
        public init(check: String, pfn: UInt64?, text: String, note: String? = nil, decode: String? = nil, span: Band? = nil) {
            self.span = span
            self.check = check
            self.pfn = pfn
            self.text = text
            self.note = note
            self.decode = decode
        }
    }

    public var title: String
    /// One line: what verify found.
    public var verdict: String
    public var passed: Bool
    /// The post-mortem banner of a kernel halted at its BUG (empty otherwise).
    public var banner: [String]
    /// Frames the map covers (PFN 0 up), the page size and frames per cell.
    public var frameCount: UInt64
    public var pageSize: UInt64
    public var framesPerCell: UInt64
    /// One class per cell, in PFN order.
    public var cells: [CellClass]
    public var zones: [Band]
    public var segments: [Band]
    public var runs: [Run]
    public var marks: [Mark]
    /// Violations verify counted but did not keep (not listed).
    public var unlisted: Int
    /// Text sections below the map: (heading, preformatted text).
    public var sections: [(String, String)]

    public init(title: String, verdict: String, passed: Bool, banner: [String] = [], frameCount: UInt64, pageSize: UInt64,
                framesPerCell: UInt64, cells: [CellClass], zones: [Band], segments: [Band], runs: [Run], marks: [Mark],
                unlisted: Int = 0, sections: [(String, String)] = []) {
        self.title = title
        self.verdict = verdict
        self.passed = passed
        self.banner = banner
        self.frameCount = frameCount
        self.pageSize = pageSize
        self.framesPerCell = framesPerCell
        self.cells = cells
        self.zones = zones
        self.segments = segments
        self.runs = runs
        self.marks = marks
        self.unlisted = unlisted
        self.sections = sections
    }

    /// Cells from per-frame classes: the frame's, or with `framesPerCell` > 1 a pageblock's most
    /// common class (a violation anywhere in it wins; a tie goes to the later class).
    public static func cells(_ frames: [CellClass], framesPerCell: UInt64) -> [CellClass] {
        guard framesPerCell > 1 else { return frames }
        var cells: [CellClass] = []
        cells.reserveCapacity(frames.count / Int(framesPerCell) + 1)
        var counts = [Int](repeating: 0, count: CellClass.allCases.count)
        for start in stride(from: 0, to: frames.count, by: Int(framesPerCell)) {
            for k in counts.indices { counts[k] = 0 }
            for c in frames[start..<min(frames.count, start + Int(framesPerCell))] { counts[c.rawValue] += 1 }
            if counts[CellClass.violation.rawValue] > 0 { cells.append(.violation); continue }
            var best = 0
            for k in counts.indices where counts[k] >= counts[best] { best = k }
            cells.append(CellClass(rawValue: best)!)
        }
        return cells
    }

    /// Runs of hole and reserved frames from per-frame classes, at most `limit` (in PFN order).
    public static func runs(_ frames: [CellClass], limit: Int = 256) -> [Run] {
        var out: [Run] = []
        var i = 0
        while i < frames.count && out.count < limit {
            let c = frames[i]
            var j = i + 1
            while j < frames.count && frames[j] == c { j += 1 }
            if c.isHoleOrReserved { out.append(Run(c, start: UInt64(i), end: UInt64(j))) }
            i = j
        }
        return out
    }
}

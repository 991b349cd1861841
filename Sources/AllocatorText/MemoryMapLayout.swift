/// Where the report page puts things, in page pixels (fixed, so a screenshot can be read back):
/// the header (title, verdict, post-mortem banner) on top, then from the left the address axis,
/// the zone band, the segment band and the map, and the violation list beside the map.
public struct MemoryMapLayout: Sendable, Equatable {
    /// Height of the header box (title, verdict, banner; it scrolls inside when longer).
    public static let headerHeight = 176
    /// Width of the address axis labels (`pfn 0x… · 0x…`).
    public static let axisWidth = 200
    public static let bandWidth = 16
    public static let zoneBandLeft = axisWidth + 8
    public static let segmentBandLeft = zoneBandLeft + bandWidth + 2
    public static let mapLeft = segmentBandLeft + bandWidth + 6
    public static let mapTop = headerHeight + 24
    public static let mapWidth = 1024
    public static let sideLeft = mapLeft + mapWidth + 16
    public static let sideWidth = 440
    /// A window wide enough for the map and the list.
    public static let pageWidth = sideLeft + sideWidth + 16
    /// The ring around a violation's cell: `ringGap` pixels out from the cell, `ringWidth` thick.
    public static let ringGap = 6, ringWidth = 3
    /// The bar beside the map for a violation of a segment or zone starts this far left of the map.
    public static let bracketOffset = 5
    /// How far the ring layer reaches past the map on each side (a selected ring is 2 px wider).
    public static let ringPad = ringGap + 4
    public static let ringColor = "#ff00ff", selectedRingColor = "#00b4ff"
    /// Colours of the zone band (in zone order, repeating) and the segment band (alternating);
    /// a frame in no zone or segment shows ``outsideColor`` in the band.
    public static let zoneColors = ["#e9c46a", "#2a9d8f", "#e76f51", "#8ab17d", "#a05195"]
    public static let segmentColors = ["#264653", "#94a3b8"]
    public static let outsideColor = "#f0f0f0"

    public var framesPerCell: UInt64
    public var cellCount: Int
    public var columns: Int
    public var cellSize: Int
    public var rows: Int { (cellCount + columns - 1) / columns }
    public var mapHeight: Int { rows * cellSize }
    /// Frames in one row of the map.
    public var framesPerRow: UInt64 { UInt64(columns) * framesPerCell }
    /// An axis label every this many rows (at least 32 pixels apart).
    public var rowsPerLabel: Int { max(1, (32 + cellSize - 1) / cellSize) }

    /// Most cells a map has (256 rows of 256 four-pixel cells: the map is at most 1024 pixels tall).
    public static let maxCells: UInt64 = 65536

    /// Frames per cell for a map of `frameCount` frames: 1 up to ``maxCells`` frames, else the
    /// smallest power of two that keeps the map within ``maxCells`` cells (4 at 1 GiB, 128 at 32 GiB).
    public static func framesPerCell(for frameCount: UInt64) -> UInt64 {
        var per: UInt64 = 1
        while per < 1 << 40 && (frameCount + per - 1) / per > maxCells { per <<= 1 }
        return per
    }

    /// `framesPerCell` frames in each 4-pixel cell (by default as ``framesPerCell(for:)`` chooses).
    public init(frameCount: UInt64, framesPerCell: UInt64? = nil) {
        self.framesPerCell = max(1, framesPerCell ?? Self.framesPerCell(for: frameCount))
        cellCount = Int((frameCount + self.framesPerCell - 1) / self.framesPerCell)
        cellSize = 4
        columns = Self.mapWidth / cellSize
    }

    /// The top-left pixel of the cell holding `pfn`.
    public func origin(of pfn: UInt64) -> (x: Int, y: Int) {
        let cell = Int(pfn / framesPerCell)
        return (Self.mapLeft + (cell % columns) * cellSize, Self.mapTop + (cell / columns) * cellSize)
    }

    /// The pixel at the centre of the cell holding `pfn`.
    public func center(of pfn: UInt64) -> (x: Int, y: Int) {
        let o = origin(of: pfn)
        return (o.x + cellSize / 2, o.y + cellSize / 2)
    }

    /// A pixel on the left side of the ring around `pfn`'s cell (the ring's colour there).
    public func ringProbe(of pfn: UInt64) -> (x: Int, y: Int) {
        let o = origin(of: pfn)
        return (o.x - Self.ringGap + Self.ringWidth / 2, o.y + cellSize / 2)
    }

    /// A pixel of the bar beside the map on the row holding `pfn`.
    public func bracketProbe(of pfn: UInt64) -> (x: Int, y: Int) { (Self.mapLeft - Self.bracketOffset + 1, center(of: pfn).y) }

    /// A pixel of the zone band, and of the segment band, on the row holding `pfn` (at the
    /// band's left edge, clear of the names written along it).
    public func zoneBandProbe(of pfn: UInt64) -> (x: Int, y: Int) { (Self.zoneBandLeft + 1, center(of: pfn).y) }
    public func segmentBandProbe(of pfn: UInt64) -> (x: Int, y: Int) { (Self.segmentBandLeft + 1, center(of: pfn).y) }
}

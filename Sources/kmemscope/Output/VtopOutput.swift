import BundledState
import KernelLayouts
import AllocatorView

/// `vtop`'s text: CR3, one line per level, the physical address and the frame.
enum VtopText {
    /// `frameLines`, when given, describe the frame instead of `frame` (Linux's `struct page`).
    static func text(_ w: PageTableWalk, frame: FrameReport?, flagNames: [(String, UInt32)], frameLines: [String]? = nil) -> String {
        var lines = ["\(hex(w.virtual)): cr3 \(hex(w.cr3))"]
        for l in w.levels {
            let name = l.name.padding(toLength: 5, withPad: " ", startingAt: 0)
            var line = "  \(name) \(String(l.index).leftPadded(3)) at \(hex(l.entryAddress)): \(hex(l.entry)) [\(l.flags.joined(separator: " "))]"
            if let size = l.pageSize, l.name != "PTE" { line += " \(size == 1 << 30 ? "1 GiB" : "2 MiB") page" }
            lines.append(line)
        }
        if let physical = w.physical, let size = w.pageSize {
            lines.append("  physical \(hex(physical)) (a \(size == 1 << 30 ? "1 GiB" : size == 1 << 21 ? "2 MiB" : "4 KiB") page)")
            if let frameLines {
                lines += frameLines.map { "  " + $0 }
            } else if let frame {
                lines += frame.text(flagNames: flagNames, lastOperation: nil).split(separator: "\n").prefix(2).map { "  " + $0 }
            } else {
                lines.append("  past the frame table: no frame")
            }
        } else {
            lines.append("  not mapped: \(w.stop ?? "the walk ended")")
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

/// `vtop --json` (schema version 1): addresses and entries as hex strings, flags by name.
struct VtopJSON: Encodable {
    struct Level: Encodable {
        var level: String
        var index: Int
        var entryAddress: String
        var entry: String
        var flags: [String]
        var pageSize: UInt64?
    }
    struct Frame: Encodable {
        var pfn: String
        var flags: [String]
        var zone: String?
        var segment: Int?
        var block: KmemJSON.Block?
    }
    var schemaVersion = 1
    var virtual: String
    var cr3: String
    var levels: [Level]
    var mapped: Bool
    var physical: String?
    var pageSize: UInt64?
    var notMappedBecause: String?
    var frame: Frame?

    init(_ w: PageTableWalk, frame f: FrameReport?, flagNames: [(String, UInt32)]) {
        virtual = hex(w.virtual)
        cr3 = hex(w.cr3)
        levels = w.levels.map { Level(level: $0.name, index: $0.index, entryAddress: hex($0.entryAddress), entry: hex($0.entry), flags: $0.flags, pageSize: $0.pageSize) }
        mapped = w.physical != nil
        physical = w.physical.map(hex)
        pageSize = w.pageSize
        notMappedBecause = w.physical == nil ? w.stop : nil
        frame = f.map { r in
            Frame(pfn: hex(r.pfn), flags: FrameReport.flagNames(r.record.flags, names: flagNames).split(separator: "|").map(String.init),
                  zone: r.zone, segment: r.segment,
                  block: r.block.map { KmemJSON.Block(head: hex($0.head), order: $0.order, start: hex($0.head << 12), end: hex(($0.head &+ (1 << UInt64($0.order))) << 12)) })
        }
    }
}

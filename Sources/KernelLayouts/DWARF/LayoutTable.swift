/// Formats a `StructLayout` as a table, pahole-style: absolute offsets, nested members
/// indented, array shapes, enum cases, and DWARF's own offset where it differs.
public enum LayoutTable {
    public static func text(_ layout: StructLayout) -> String {
        var lines: [String] = []
        var head = "struct \(layout.qualifiedName)"
        head += "  size \(layout.size)  align \(layout.alignment)  stride \(layout.stride)"
        if let l = layout.linkageName { head += "  (\(l))" }
        lines.append(head)
        if layout.offsetSource == .swiftLayoutRules {
            lines.append("  offsets recomputed by Swift's layout rule: DWARF's data_member_location omits padding; \"dwarf N\" shows where it differs")
        }
        lines.append(pad("offset", 8) + pad("size", 6) + pad("align", 6) + "  " + padRight("member", 26) + "type")
        append(layout, base: 0, indent: 0, into: &lines)
        return lines.joined(separator: "\n")
    }

    private static func append(_ layout: StructLayout, base: UInt64, indent: Int, into lines: inout [String]) {
        for m in layout.members {
            let at = base + m.offset
            var line = pad(String(at), 8) + pad(String(m.size), 6) + pad(String(m.alignment), 6) + "  "
            line += padRight(String(repeating: "  ", count: indent) + m.name, 26) + m.typeName
            var notes: [String] = []
            if let a = m.array {
                notes.append("\(a.count) x \(a.elementTypeName), stride \(a.elementStride)")
            }
            if let e = m.enumeration {
                let cases = e.cases.map { "\($0.name)=\($0.storedValue)" }.joined(separator: " ")
                notes.append("cases \(cases)" + (e.storedValuesAreCaseIndexes ? " (case indexes)" : "")
                             + (e.rawTypeName.map { ", raw type \($0)" } ?? ""))
            }
            if let b = m.bitField { notes.append("bits \(b.bitOffset)..<\(b.bitOffset + b.bitSize)") }
            if let d = m.dwarfOffset { notes.append("dwarf \(d)") }
            if !notes.isEmpty { line += "  [" + notes.joined(separator: "; ") + "]" }
            lines.append(line)
            if let nested = m.nested {
                append(nested, base: at, indent: indent + 1, into: &lines)
            } else if let element = m.array?.elementLayout, m.array!.count > 0 {
                append(element, base: at, indent: indent + 1, into: &lines)
            }
        }
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }

    private static func padRight(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}

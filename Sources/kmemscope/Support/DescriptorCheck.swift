import KernelLayouts

/// Compares every `OFFSET(Type.field)` and `SIZE(Type)` the kernel measured with the ELF's
/// DWARF (the two must agree; DESIGN pins each layout in three places).
struct DescriptorCheck: Encodable {
    /// Offsets and sizes that agree.
    var agreed = 0
    /// `what: kernel N, DWARF M` for each disagreement (or what could not be compared).
    var mismatches: [String] = []
    /// Why nothing was compared (no DWARF), if so.
    var skipped: String?

    init(info: KernelInfo, kernel: KernelImage) {
        guard kernel.dwarf != nil else {
            skipped = "the ELF has no DWARF: layouts were not compared"
            return
        }
        var layouts: [String: StructLayout] = [:]
        for (type, field, offset) in info.offsets {
            do {
                if layouts[type] == nil { layouts[type] = try kernel.structLayout(named: type) }
                let dwarf = try layouts[type]!.offset(of: field)
                if dwarf == offset { agreed += 1 } else { mismatches.append("OFFSET(\(type).\(field)): kernel \(offset), DWARF \(dwarf)") }
            } catch {
                mismatches.append("OFFSET(\(type).\(field)): kernel \(offset), DWARF: \(error)")
            }
        }
        for (type, layout) in layouts.sorted(by: { $0.key < $1.key }) {
            guard let size = try? info.size(of: type) else { continue }
            if size == layout.size { agreed += 1 } else { mismatches.append("SIZE(\(type)): kernel \(size), DWARF \(layout.size)") }
        }
    }
}

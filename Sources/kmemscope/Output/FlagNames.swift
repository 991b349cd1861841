import KernelLayouts

extension KernelInfo {
    /// The FrameMeta flag names the kernel publishes (`FLAG(name)` entries), with their bits.
    var flagNames: [(String, UInt32)] {
        entries.filter { $0.key.hasPrefix("FLAG(") }.compactMap { e -> (String, UInt32)? in
            guard let v = try? number(e.key) else { return nil }
            return (String(e.key.dropFirst(5).dropLast()), UInt32(truncatingIfNeeded: v))
        }.sorted { $0.1 < $1.1 }
    }
}

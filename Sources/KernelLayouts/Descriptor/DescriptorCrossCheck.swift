/// Checks every value the guest's `kmem_info` publishes against the ELF the user gave, by the
/// rules of ``DescriptorFields``, before any decoder uses one: the first disagreement is
/// thrown as ``KernelInfoError/crossCheck(key:published:expected:source:)``, which names the
/// field, both values and where each came from.
public struct DescriptorCrossCheck: Sendable {
    /// Keys whose every rule held.
    public private(set) var checked: [String] = []
    /// Keys published with no rule in ``DescriptorFields`` (read by no decoder of this build).
    public private(set) var unknown: [String] = []
    /// Why some rules could not run (an image without DWARF), if so.
    public private(set) var skipped: [String] = []

    /// Runs every rule for every key `info` publishes.
    /// - Throws: `KernelInfoError.crossCheck` at the first value the ELF contradicts;
    ///   `KernelInfoError.notANumber` for a value that is no number; guest-memory errors when
    ///   the allocator's root cannot be read.
    public init(info: KernelInfo, kernel: KernelImage, memory: some GuestMemory) throws {
        var context = Context(info: info, kernel: kernel, memory: memory)
        // SIZE/OFFSET first: later rules (fitsDirectMap) use published sizes.
        let layoutKeys = info.entries.map(\.key).filter { $0.hasPrefix("SIZE(") || $0.hasPrefix("OFFSET(") }
        let tableKeys = DescriptorFields.table.map(\.key).filter { info[$0] != nil }
        for key in layoutKeys + tableKeys {
            guard let rules = DescriptorFields.rules(for: key) else { continue }
            var all = true
            for rule in rules {
                if try !context.check(key, rule) {
                    all = false
                    skipped.append("\(key): \(rule.summary): \(context.noDWARF ?? context.rootMagic ?? "not run")")
                }
            }
            if all { checked.append(key) }
        }
        var seen = Set<String>()
        for e in info.entries where DescriptorFields.rules(for: e.key) == nil && seen.insert(e.key).inserted {
            unknown.append(e.key)
        }
    }
}

extension DescriptorCrossCheck {
    /// One line per thing the user should know: rules that could not run, keys no rule covers.
    public var warnings: [String] {
        (skipped.isEmpty ? [] : ["kmem_info: \(skipped.count) cross-checks not run (\(skipped.first!)…)"])
            + (unknown.isEmpty ? [] : ["kmem_info publishes \(unknown.joined(separator: ", ")), which this kmemscope does not check or use"])
    }
}

import KernelLayouts

/// Whether a symbol map (`--symbols`) is of the kernel build a vmcore was taken from, judged by
/// the dump's VMCOREINFO: its `BUILD-ID` against a vmlinux's GNU build-id, and every
/// `SYMBOL(name)` in the kernel image that the map also has — each must lie the same distance
/// from the map's address, and that distance must be 0 (a copy of the guest's kallsyms) or the
/// dump's `KERNELOFFSET` (a System.map: link-time addresses). Anything else is another build,
/// refused in one line naming both.
public enum VmcoreBuildCheck {
    /// A map of another build.
    public struct Mismatch: Error, CustomStringConvertible {
        public var description: String
    }

    /// Checks `map` (read from `symbolsPath`; `buildID` when it is a vmlinux) against `info` of
    /// the dump at `dumpPath`. Returns how many symbols agreed.
    @discardableResult
    public static func check(_ info: VmcoreInfo, dumpPath: String, map: SymbolMap, symbolsPath: String, buildID: String?) throws(Mismatch) -> Int {
        let dump = "the vmcore \(dumpPath) (Linux \(info.osRelease ?? "of unknown release")" + (info.buildID.map { ", build id \($0)" } ?? "") + ")"
        if let theirs = info.buildID, let ours = buildID?.lowercased(), !ours.isEmpty, theirs != ours {
            throw Mismatch(description: "\(symbolsPath) (build id \(ours)) is another kernel build than \(dump): give the symbols of the dumped kernel")
        }
        let offset = info.kernelOffset ?? 0
        var agreed = 0
        for (name, address) in info.symbols where address >= SymbolMap.kernelImageBase {
            guard let ours = map.symbol(named: name)?.address else { continue }
            let distance = address &- ours
            guard distance == 0 || distance == offset else {
                throw Mismatch(description: "\(symbolsPath) is another kernel build than \(dump): \(name) is at 0x\(String(ours, radix: 16)) there, "
                               + "at 0x\(String(address, radix: 16)) in the dump's VMCOREINFO (KASLR offset 0x\(String(offset, radix: 16))); give the symbols of the dumped kernel")
            }
            agreed += 1
        }
        return agreed
    }
}

import KernelSupport

/// What identifies this boot, published at the end of `kmem_info` (kernel/README.md, "Boot
/// identity") so that a debugger can tell two boots apart: snapshots of different boots are
/// not two moments of one run, unless the boots ran the same command line (and so the same
/// deterministic workload).
struct BootIdentity {
    /// Random per boot, never 0: the time-stamp counter mixed with RDRAND (when present)
    /// through SplitMix64's finaliser. A run-time value: the ELF's copy of `kmem_info` has none.
    let id: UInt64
    /// FNV-1a (64-bit) of the command line's bytes as the boot loader passed them.
    let commandLineHash: UInt64
    /// The workload's seed (`seed=`, 1 when absent).
    let seed: UInt64

    init(commandLine: CommandLine) {
        var entropy = read_tsc()
        if cpu_has_rdrand() != 0 {
            var value: UInt64 = 0
            // RDRAND may fail transiently; bounded retries, the TSC alone is enough
            for _ in 0..<10 where rdrand64(&value) != 0 {
                entropy ^= value
                break
            }
        }
        var z = entropy &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        id = z == 0 ? 1 : z
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        if let bytes = commandLine.bytes {
            for i in 0..<commandLine.count {
                hash = (hash ^ UInt64(bytes[i])) &* 0x0000_0100_0000_01B3
            }
        }
        commandLineHash = hash
        seed = commandLine.number("seed", default: 1)
    }
}

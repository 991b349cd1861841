/// The kernel command line: space-separated `key=value` words.
///
/// Keys read by the kernel: `poison=1` (page poisoning), `exit=1` (leave QEMU through
/// isa-debug-exit at the end), `misuse=KIND` (commit one API misuse on purpose to show it is
/// caught: `double-free`, `wrong-order`, `outside`, `free-reserved`, `interior`),
/// `seed=N ops=N phases=N` (the workload), `fault=KIND@SEQ` (fault injection),
/// `dumpinfo=1` (print the layout descriptor), `crash=pagefault` (read an unmapped address,
/// to show the exception report), `hotadd=START,SIZE` (hold RAM back at boot, add it later),
/// `smp=free` (the workload's CPUs run at once, without turns), `pcpbench=K` (time order-0
/// pairs on 1, 2, 4 … CPUs at once).
struct CommandLine {
    let bytes: UnsafePointer<UInt8>?
    let count: Int

    /// The value of `key`, as a byte range, if present.
    func value(_ key: StaticString) -> (start: Int, count: Int)? {
        guard let b = bytes else { return nil }
        var i = 0
        while i < count {
            while i < count && b[i] == 32 { i += 1 }
            let wordStart = i
            while i < count && b[i] != 32 { i += 1 }
            let k = key.utf8Start
            let kn = key.utf8CodeUnitCount
            if i - wordStart > kn && b[wordStart + kn] == 61 {
                var same = true
                for j in 0..<kn where b[wordStart + j] != k[j] { same = false }
                if same { return (wordStart + kn + 1, i - wordStart - kn - 1) }
            }
        }
        return nil
    }

    /// Whether `key` has exactly the value `expected`.
    func has(_ key: StaticString, _ expected: StaticString) -> Bool {
        guard let v = value(key), let b = bytes, v.count == expected.utf8CodeUnitCount else { return false }
        for j in 0..<v.count where b[v.start + j] != expected.utf8Start[j] { return false }
        return true
    }

    /// The decimal (or `0x` hex) number value of `key`, or `default`.
    func number(_ key: StaticString, default value: UInt64) -> UInt64 {
        guard let v = self.value(key), let b = bytes else { return value }
        return parseNumber(b + v.start, v.count) ?? value
    }

    /// `fault=KIND@SEQ`: the kind and the sequence number.
    var fault: (kind: FaultKind, sequence: UInt64)? {
        guard let v = value("fault"), let b = bytes else { return nil }
        var at = 0
        while at < v.count && b[v.start + at] != 64 { at += 1 }
        guard at < v.count, let kind = FaultKind.named(b + v.start, count: at),
              let seq = parseNumber(b + v.start + at + 1, v.count - at - 1) else { return nil }
        return (kind, seq)
    }

    /// `hotadd=START,SIZE` (bytes, decimal or `0x` hex): RAM held back at boot and added
    /// later as new segments (memory hot-add).
    var hotAdd: PhysRange? {
        guard let v = value("hotadd"), let b = bytes else { return nil }
        var comma = 0
        while comma < v.count && b[v.start + comma] != 44 { comma += 1 }
        guard comma < v.count, let start = parseNumber(b + v.start, comma),
              let size = parseNumber(b + v.start + comma + 1, v.count - comma - 1),
              size != 0, start <= UInt64.max &- size else { return nil }
        return PhysRange(start: start, end: start &+ size)
    }

    /// Writes the command line.
    func write<S: TextSink>(to out: inout S) {
        guard let b = bytes else { return }
        for i in 0..<count { out.put(b[i]) }
    }
}

/// Parses a decimal or `0x` hex number of `count` bytes.
func parseNumber(_ p: UnsafePointer<UInt8>, _ count: Int) -> UInt64? {
    guard count > 0 else { return nil }
    var v: UInt64 = 0
    if count > 2 && p[0] == 48 && (p[1] == 120 || p[1] == 88) {
        for i in 2..<count {
            let c = p[i]
            let d: UInt64
            if c >= 48 && c <= 57 { d = UInt64(c - 48) } else if c >= 97 && c <= 102 { d = UInt64(c - 87) } else if c >= 65 && c <= 70 { d = UInt64(c - 55) } else { return nil }
            v = v &* 16 &+ d
        }
        return v
    }
    for i in 0..<count {
        let c = p[i]
        guard c >= 48 && c <= 57 else { return nil }
        v = v &* 10 &+ UInt64(c - 48)
    }
    return v
}

/// The kernel command line: space-separated `key=value` words.
///
/// Keys read by the kernel: `poison=1` (page poisoning), `exit=1` (leave QEMU through
/// isa-debug-exit after the report), `misuse=KIND` (commit one API misuse on purpose to show
/// it is caught: `double-free`, `wrong-order`, `outside`, `free-reserved`, `interior`).
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

    /// Writes the command line.
    func write<S: TextSink>(to out: inout S) {
        guard let b = bytes else { return }
        for i in 0..<count { out.put(b[i]) }
    }
}

/// The line `--timing` prints: how long opening (libelf + libdw) and resolving took.
enum TimingLine {
    static func text(path: String, open: Duration, resolve: Duration, count: Int) -> String {
        "timing: open \(milliseconds(open)) ms (libelf + libdw, \(path)), resolve \(count) layout(s) "
            + "\(milliseconds(resolve)) ms, total \(milliseconds(open + resolve)) ms"
    }

    static func milliseconds(_ d: Duration) -> String {
        let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        let tenths = Int((ms * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

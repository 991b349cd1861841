/// The bundled kernel's serial lines that say where it is (kernel/src/Main.swift prints them).
public enum SerialMarkers {
    /// After the boot self-check, before any workload.
    public static let booted = "kmem: ready"
    /// A workload checkpoint (`kmem: checkpoint phase P seq N`).
    public static let checkpoint = "kmem: checkpoint phase "
    /// The workload ended (`kmem: done seq N`).
    public static let done = "kmem: done"
    /// The kernel caught a misuse or corruption and halted.
    public static let bug = "kmem: BUG:"
}

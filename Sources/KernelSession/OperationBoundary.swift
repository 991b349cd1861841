/// How a kernel tells a debugger whether it stopped between allocator operations: the
/// descriptor key of a word that counts operations in progress, and the function the kernel
/// calls each time that count returns to 0. The part of a kernel profile settling needs.
public struct OperationBoundary: Sendable, Equatable {
    /// The `kmem_info` key whose value is the address of the busy word (u64, 0 = between operations).
    public var busyKey: String
    /// The `kmem_info` key whose value is the address of the sequence number.
    public var sequenceKey: String
    /// The function called when the busy word returns to 0.
    public var endSymbol: String

    /// A boundary described by its descriptor keys and end-of-operation function.
    public init(busyKey: String, sequenceKey: String, endSymbol: String) {
        self.busyKey = busyKey
        self.sequenceKey = sequenceKey
        self.endSymbol = endSymbol
    }

    /// The bundled kernel's: `BUSY` (`KmemState.busy`), `SEQUENCE`, `kmem_op_end`.
    public static let bundledKernel = OperationBoundary(busyKey: "BUSY", sequenceKey: "SEQUENCE", endSymbol: "kmem_op_end")
}

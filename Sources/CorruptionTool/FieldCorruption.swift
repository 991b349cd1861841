import BundledChecks

/// One field of one structure the layout descriptor publishes, a wrong value for it, and the
/// checks that must notice it (empty when no check can, with the reason).
public struct FieldCorruption: Sendable {
    /// `FrameMeta`, `Zone`, `PerCPUPages`, `Segment`, `SlabCache`, `HeapState`, `KmemState`, `page`.
    public let structure: String
    /// The field (`next`, `freeHeads[…]`, `parityBitmaps` …).
    public let field: String
    /// What is written, in words.
    public let how: String
    /// Any one of these must report it at the target's location.
    public let expected: [Check]
    /// Why no check can notice it (for an empty `expected`).
    public let uncheckable: String?
    /// Picks the target in a clean guest; nil when the guest has nothing to corrupt this way.
    public let target: @Sendable (CorruptionContext) throws -> CorruptionTarget?

    public init(_ structure: String, _ field: String, _ how: String, expect: [Check], uncheckable: String? = nil,
                target: @escaping @Sendable (CorruptionContext) throws -> CorruptionTarget?) {
        self.structure = structure
        self.field = field
        self.how = how
        self.expected = expect
        self.uncheckable = uncheckable
        self.target = target
    }

    /// `Structure.field`.
    public var name: String { "\(structure).\(field)" }
}

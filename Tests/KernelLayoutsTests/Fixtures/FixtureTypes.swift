// Compiled twice, as the kernel's mm sources are: into this test target for the host, where
// `MemoryLayout<T>.offset(of:)` gives the true offsets, and by `FixtureBuilder` with the
// Embedded Swift kernel flags into the test ELFs whose DWARF the tests read.
// Keep it to what Embedded Swift accepts. The two `reorder` lines are swapped to build the
// variant image; `FixtureFrameReordered` is that variant for the host.

public enum FixtureColor: UInt8 { case red = 1, green = 2, blue = 7 }

public struct FixtureLink {
    public var next: UInt64
    public var prev: UInt64
}

public struct FixtureInner {
    public var a: UInt32
    public var b: UInt16
}

public struct FixtureFrame {
    public var flags: UInt32
    public var order: UInt8  // reorder-A
    public var link: FixtureLink  // reorder-B
    public var color: FixtureColor
    public var inner: FixtureInner
    public var tags: InlineArray<4, UInt16>
    public var pair: (UInt8, UInt32)
    public var owner: UInt64?
    public var seq: UInt64
}

public struct FixtureFrameReordered {
    public var flags: UInt32
    public var link: FixtureLink  // reorder-B
    public var order: UInt8  // reorder-A
    public var color: FixtureColor
    public var inner: FixtureInner
    public var tags: InlineArray<4, UInt16>
    public var pair: (UInt8, UInt32)
    public var owner: UInt64?
    public var seq: UInt64
}

public struct FixtureBox<T> {
    public var value: T
    public var tag: UInt8
}

public struct FixtureZone {
    public var name: InlineArray<8, UInt8>
    public var free: InlineArray<3, FixtureLink>
    public var spans: (FixtureInner, FixtureInner)
    public var count: Int
}

public final class FixtureNode {
    public var value: UInt32 = 0
    public init() {}
}

public enum FixtureShape {
    case dot(UInt8)
    case link(FixtureLink)
    case nothing
}

/// The odd corners: a `let`, a static, a class reference, pointers, payload enums, nested
/// generics, optionals in an InlineArray, nested tuples, floating point.
public struct FixtureMixed {
    nonisolated(unsafe) public static var instances: UInt64 = 0
    public let first: UInt8
    public var node: FixtureNode?
    public var pointer: UnsafeMutablePointer<FixtureLink>
    public var maybeLink: FixtureLink?
    public var shape: FixtureShape
    public var boxes: FixtureBox<FixtureBox<UInt8>>
    public var maybes: InlineArray<2, UInt32?>
    public var label: StaticString
    public var small: Int8
    public var ratio: Double
    public var pairs: ((UInt8, UInt16), UInt64)
}

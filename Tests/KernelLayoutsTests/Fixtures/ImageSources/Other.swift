// A second module declaring a struct and a global with the same names as module Fix.
public struct FixtureInner {
    public var x: UInt64
    public var y: UInt8
}
public var counter: Int = 5
public var otherInner = FixtureInner(x: 1, y: 2)
@_cdecl("other_touch")
public func otherTouch() -> Int {
    counter &+= 1
    otherInner.y &+= 1
    return counter &+ Int(otherInner.x)
}

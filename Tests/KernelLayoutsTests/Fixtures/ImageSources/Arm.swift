// Compiled for aarch64 to give the tests an ELF of the wrong machine.
public struct ArmThing { public var a: UInt64 }
public var armThing = ArmThing(a: 1)

/// How every view of kmemscope writes a number in hex: `0x` and lower-case digits, no padding
/// (`0x1f3a`), as crash, drgn and /proc do for addresses and PFNs.
public func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

/// ``hex(_:)``, but `none` for `UInt64.max`: the kernel's "no frame", "no link" and "no owner".
public func hexOrNone(_ v: UInt64) -> String { v == .max ? "none" : hex(v) }

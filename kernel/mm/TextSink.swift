/// Where the allocator's reports go: the serial port in the kernel, a byte buffer on the host.
/// Formatting is done here without the heap, so it works before the kernel heap exists.
public protocol TextSink {
    /// Writes one byte.
    mutating func put(_ byte: UInt8)
}

extension TextSink {
    /// Writes a static string.
    public mutating func write(_ s: StaticString) {
        let p = s.utf8Start
        for i in 0..<s.utf8CodeUnitCount { put(p[i]) }
    }

    /// Writes `v` in decimal, right-aligned in `width` columns.
    public mutating func dec(_ v: UInt64, width: Int = 0) {
        var digits: InlineArray<20, UInt8> = .init(repeating: 0)
        var n = v
        var count = 0
        repeat {
            digits[count] = UInt8(truncatingIfNeeded: n % 10) &+ 48
            n /= 10
            count += 1
        } while n != 0
        var pad = width - count
        while pad > 0 { put(32); pad -= 1 }
        while count > 0 { count -= 1; put(digits[count]) }
    }

    /// Writes `v` as `0x…` in lower-case hex, at least `digits` digits.
    public mutating func hex(_ v: UInt64, digits: Int = 1) {
        put(48); put(120)
        var started = false
        var i = 15
        while i >= 0 {
            let nibble = UInt8(truncatingIfNeeded: (v >> UInt64(i * 4)) & 0xF)
            if nibble != 0 || i < digits || started {
                started = true
                put(nibble < 10 ? nibble &+ 48 : nibble &+ 87)
            }
            i -= 1
        }
    }

    /// Writes a static string left-aligned in `width` columns.
    public mutating func padded(_ s: StaticString, width: Int) {
        write(s)
        var pad = width - s.utf8CodeUnitCount
        while pad > 0 { put(32); pad -= 1 }
    }

    /// Writes a newline.
    public mutating func newline() { put(10) }
}

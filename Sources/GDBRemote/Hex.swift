/// Fast conversion between bytes and the protocol's lower-case hexadecimal text.
///
/// Everything works on raw bytes (`UInt8`), never on `String` or `Character`, so that
/// decoding a 4 KiB memory reply costs a table lookup per digit and nothing else.
public enum Hex {
    /// `digitValue[c]` is the value of the hex digit `c`, or `0xFF` if `c` is not one.
    @usableFromInline
    static let digitValue: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "0123456789abcdef".utf8.enumerated() { table[Int(c)] = UInt8(i) }
        for (i, c) in "ABCDEF".utf8.enumerated() { table[Int(c)] = UInt8(10 + i) }
        return table
    }()

    @usableFromInline
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Decodes `source` (an even number of hex digits) into `destination`, which must hold
    /// exactly `source.count / 2` bytes. Returns `false` if a character is not a hex digit or
    /// the sizes do not match; `destination` is then partly written.
    public static func decode(_ source: UnsafeRawBufferPointer,
                              into destination: UnsafeMutableRawBufferPointer) -> Bool {
        let n = destination.count
        guard source.count == n * 2 else { return false }
        if n == 0 { return true }
        let src = source.baseAddress!
        let dst = destination.baseAddress!
        // Eight digits (one 64-bit word) at a time, SWAR: a digit's value is its low nibble
        // plus 9 for letters (bit 6 set), and validity is range checks done on all lanes.
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        var i = 0
        var bad: UInt64 = 0
        while i + 4 <= n {
            let x = src.loadUnaligned(fromByteOffset: 2 &* i, as: UInt64.self)
            let y = x | (0x20 &* ones)
            let isDigit = (x &+ 0x50 &* ones) & ~(x &+ 0x46 &* ones)
            let isLetter = (y &+ 0x1F &* ones) & ~(y &+ 0x19 &* ones)
            bad |= (~(isDigit | isLetter) & high) | (x & high)
            let v = (x & (0x0F &* ones)) &+ ((x >> 6) & ones) &* 9
            var w = ((v & 0x00FF_00FF_00FF_00FF) << 4) | ((v >> 8) & 0x00FF_00FF_00FF_00FF)
            w = (w | (w >> 8)) & 0x0000_FFFF_0000_FFFF
            w = (w | (w >> 16)) & 0xFFFF_FFFF
            dst.storeBytes(of: UInt32(truncatingIfNeeded: w).littleEndian, toByteOffset: i, as: UInt32.self)
            i &+= 4
        }
        let s8 = src.assumingMemoryBound(to: UInt8.self)
        let d8 = dst.assumingMemoryBound(to: UInt8.self)
        while i < n {
            let h = s8[2 &* i], l = s8[2 &* i &+ 1]
            if !isHexDigit(h) || !isHexDigit(l) { return false }
            d8[i] = (((h & 0x0F) &+ (h >> 6) &* 9) &<< 4) | ((l & 0x0F) &+ (l >> 6) &* 9)
            i &+= 1
        }
        return bad == 0
    }

    @inline(__always)
    static func isHexDigit(_ c: UInt8) -> Bool {
        (c &- 0x30) < 10 || ((c | 0x20) &- 0x61) < 6
    }

    /// Decodes hex digits given as bytes; `nil` if they are not valid hex.
    public static func decode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        let source = Array(text)
        guard source.count % 2 == 0 else { return nil }
        var out = [UInt8](repeating: 0, count: source.count / 2)
        let ok = source.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in decode(src, into: dst) }
        }
        return ok ? out : nil
    }

    /// Decodes a hex `String`; `nil` if it is not valid hex.
    public static func decode(_ text: String) -> [UInt8]? { decode(Array(text.utf8)) }

    /// Appends the hex digits of `bytes` (two per byte, lower case) to `output`.
    @inlinable
    public static func encode(_ bytes: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: bytes.count * 2))
        digits.withUnsafeBufferPointer { d in
            output.withUnsafeMutableBufferPointer { out in
                for (i, b) in bytes.enumerated() {
                    out[start &+ 2 &* i] = d[Int(b >> 4)]
                    out[start &+ 2 &* i &+ 1] = d[Int(b & 0x0F)]
                }
            }
        }
    }

    /// The hex digits of `bytes` as bytes.
    public static func encode<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        Array(bytes).withUnsafeBytes { encode($0, appendingTo: &out) }
        return out
    }

    /// The hex digits of `bytes` as a `String`.
    public static func string<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: encode(bytes), as: UTF8.self)
    }

    /// Parses a big-endian hex number such as `"7ffe"` (protocol numbers, not memory).
    public static func number<C: Collection>(_ text: C) -> UInt64? where C.Element == UInt8 {
        guard !text.isEmpty, text.count <= 16 else { return nil }
        var value: UInt64 = 0
        for c in text {
            let v = digitValue[Int(c)]
            if v == 0xFF { return nil }
            value = value << 4 | UInt64(v)
        }
        return value
    }

    /// Parses a big-endian hex number from a `Substring` or `String`.
    public static func number<S: StringProtocol>(_ text: S) -> UInt64? { number(Array(text.utf8)) }
}

/// Read-ahead for small memory reads (`--cache-reads`): gdb's `x/1000gx` asks `m addr,8` a
/// thousand times, one round trip each. The proxy instead reads the aligned 1 KiB block
/// around the first (one page at most, so no mapping is crossed that the small read would not
/// cross) and answers the rest of the block from it while the guest stays stopped.
struct ReadAhead {
    /// The block size: a power of two that divides the 4 KiB page.
    static let block: UInt64 = 1024

    /// A small read that fits one block: its address and length.
    struct Request: Equatable {
        var address: UInt64
        var length: Int
        var base: UInt64 { address & ~(ReadAhead.block - 1) }
    }

    /// `m addr,len` parsed, when it lies inside one block; nil otherwise.
    static func request(_ body: UnsafeRawBufferPointer) -> Request? {
        guard body.count > 3, body.first == UInt8(ascii: "m"), let comma = body.firstIndex(of: UInt8(ascii: ",")), comma > 1 else { return nil }
        guard let address = number(body[1..<comma]), let length = number(body[(comma + 1)...]), length > 0, length <= block else { return nil }
        guard address & ~(block - 1) == (address &+ length &- 1) & ~(block - 1), address <= address &+ length else { return nil }
        return Request(address: address, length: Int(length))
    }

    private static func number(_ digits: Slice<UnsafeRawBufferPointer>) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        var v: UInt64 = 0
        for c in digits {
            guard let d = RawFrameBuffer.hexValue(c) else { return nil }
            v = v << 4 | UInt64(d)
        }
        return v
    }

    /// The request for the whole block.
    static func blockRequest(_ r: Request) -> [UInt8] {
        Array("m\(String(r.base, radix: 16)),\(String(block, radix: 16))".utf8)
    }

    /// The reply to `r` cut from a block's reply payload (hex), framed; nil if the block reply
    /// is not a whole block of hex.
    static func reply(for r: Request, fromBlock hex: [UInt8]) -> [UInt8]? {
        guard hex.count == Int(block) * 2 else { return nil }
        let start = Int(r.address - r.base) * 2
        var frame: [UInt8] = [UInt8(ascii: "$")]
        frame.reserveCapacity(r.length * 2 + 4)
        var sum: UInt8 = 0
        for b in hex[start..<(start + r.length * 2)] { frame.append(b); sum &+= b }
        let digits = Array("0123456789abcdef".utf8)
        frame += [UInt8(ascii: "#"), digits[Int(sum >> 4)], digits[Int(sum & 15)]]
        return frame
    }
}

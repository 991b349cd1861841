import Glibc  // memchr only: the codec does no I/O

/// The GDB remote serial protocol's framing, with no I/O at all.
///
/// Outgoing: ``frame(_:)`` wraps a payload as `$payload#cc`, escaping the four bytes that may
/// not appear literally (`$`, `#`, `}`, `*`) as `}` followed by the byte XOR 0x20.
///
/// Incoming: feed whatever bytes arrived with ``append(_:)`` (any split: one byte at a time or
/// many packets at once), then take ``PacketEvent``s with ``next()`` until it returns `nil`.
/// The decoder
/// - verifies the checksum (the modulo-256 sum of the bytes between `$` and `#`, as sent),
/// - undoes `}` escapes and expands run-length encoding (`X*n` means `X` repeated
///   `n - 29` more times),
/// - reports `%…#cc` notifications apart from replies,
/// - skips bytes that belong to no packet (line noise, a stray `\r\n`) and counts them in
///   ``skippedBytes``,
/// - cuts packets longer than ``maximumPayload`` instead of buffering without bound.
public struct PacketCodec: Sendable {
    /// The largest payload (as it travels, before expansion) the decoder buffers.
    public var maximumPayload: Int
    /// Bytes that were not part of any packet or ack, skipped since the codec was made.
    public private(set) var skippedBytes = 0

    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// While cutting an oversize packet: the bytes dropped so far (`nil` when not cutting).
    private var discarding: Int?
    /// How far the search for `#` got in the current packet, so a packet that arrives in many
    /// pieces is scanned once, not once per piece.
    private var scanIndex = 0

    /// Makes a decoder that refuses payloads longer than `maximumPayload` bytes.
    public init(maximumPayload: Int = 1 << 20) {
        self.maximumPayload = maximumPayload
    }

    /// Bytes received but not yet turned into events.
    public var bufferedCount: Int { buffer.count - readIndex }

    /// True while a packet has started (`$` seen) but not yet ended.
    public var isInsidePacket: Bool {
        discarding != nil || (readIndex < buffer.count && (buffer[readIndex] == UInt8(ascii: "$")
            || buffer[readIndex] == UInt8(ascii: "%")))
    }

    // MARK: Encoding

    /// The modulo-256 sum of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt8 {
        scan(bytes).sum
    }

    /// The modulo-256 sum of `bytes`.
    public static func checksum<C: Collection>(_ bytes: C) -> UInt8 where C.Element == UInt8 {
        bytes.reduce(0, &+)
    }

    /// `$payload#cc`, with `$ # } *` in the payload escaped.
    public static func frame<C: Collection>(_ payload: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 4)
        append(frameOf: payload, to: &out)
        return out
    }

    /// Appends `$payload#cc` to `out` (escaping as ``frame(_:)`` does).
    public static func append<C: Collection>(frameOf payload: C, to out: inout [UInt8])
    where C.Element == UInt8 {
        out.append(UInt8(ascii: "$"))
        let start = out.count
        for b in payload {
            switch b {
            case UInt8(ascii: "$"), UInt8(ascii: "#"), UInt8(ascii: "}"), UInt8(ascii: "*"):
                out.append(UInt8(ascii: "}"))
                out.append(b ^ 0x20)
            default:
                out.append(b)
            }
        }
        let sum = out[start...].reduce(0, &+)
        out.append(UInt8(ascii: "#"))
        out.append(Hex.digits[Int(sum >> 4)])
        out.append(Hex.digits[Int(sum & 0xF)])
    }

    // MARK: Decoding

    /// Adds received bytes to the decoder.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if readIndex > 0 && (readIndex >= buffer.count || readIndex > 65536) {
            buffer.removeSubrange(0..<readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes to the decoder.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        Array(bytes).withUnsafeBytes { append($0) }
    }

    /// The next complete event, or `nil` if more bytes are needed.
    public mutating func next() -> PacketEvent? {
        if let dropped = discarding {
            // Cutting an oversize packet: drop everything up to and including `#cc`.
            guard let hash = firstIndex(of: UInt8(ascii: "#"), from: readIndex) else {
                discarding = dropped + (buffer.count - readIndex)
                readIndex = buffer.count
                return nil
            }
            guard hash + 2 < buffer.count else {
                discarding = dropped + (hash - readIndex)
                readIndex = hash
                return nil
            }
            readIndex = hash + 3
            discarding = nil
        }
        while readIndex < buffer.count {
            let c = buffer[readIndex]
            switch c {
            case UInt8(ascii: "+"):
                readIndex += 1
                return .ack
            case UInt8(ascii: "-"):
                readIndex += 1
                return .nak
            case UInt8(ascii: "$"), UInt8(ascii: "%"):
                return packet()
            default:
                readIndex += 1
                skippedBytes += 1
            }
        }
        return nil
    }

    private func firstIndex(of byte: UInt8, from start: Int) -> Int? {
        guard start < buffer.count else { return nil }
        return buffer.withUnsafeBytes { p -> Int? in
            guard let found = memchr(p.baseAddress! + start, Int32(byte), p.count - start) else { return nil }
            return p.baseAddress!.distance(to: UnsafeRawPointer(found))
        }
    }

    /// The checksum of `body` and whether it holds `}` or `*` (escapes or run-length), in
    /// one pass over 64-bit words (SWAR): byte sums in 16-bit lanes, and the classic
    /// "has a zero byte" test on the word XOR each special byte.
    static func scan(_ body: UnsafeRawBufferPointer) -> (sum: UInt8, special: Bool) {
        guard let base = body.baseAddress else { return (0, false) }
        let count = body.count
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let lanes: UInt64 = 0x00FF_00FF_00FF_00FF
        var total: UInt64 = 0
        var special: UInt64 = 0
        var i = 0
        while i + 8 <= count {
            // At most 128 words per block, so 16-bit lanes (each +510 per word) cannot overflow.
            var acc: UInt64 = 0
            let end = min(count, i + 8 * 128)
            while i + 8 <= end {
                let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                acc &+= (x & lanes) &+ ((x >> 8) & lanes)
                let a = x ^ (0x7D &* ones), b = x ^ (0x2A &* ones)
                special |= ((a &- ones) & ~a & high) | ((b &- ones) & ~b & high)
                i &+= 8
            }
            total &+= (acc & 0xFFFF) &+ ((acc >> 16) & 0xFFFF) &+ ((acc >> 32) & 0xFFFF) &+ (acc >> 48)
        }
        let p = base.assumingMemoryBound(to: UInt8.self)
        var sum = UInt8(truncatingIfNeeded: total)
        while i < count {
            let b = p[i]
            sum &+= b
            if b == 0x7D || b == 0x2A { special = 1 }
            i &+= 1
        }
        return (sum, special != 0)
    }

    private mutating func packet() -> PacketEvent? {
        let start = readIndex
        let isNotification = buffer[start] == UInt8(ascii: "%")
        let from = max(start + 1, scanIndex)
        guard let hash = firstIndex(of: UInt8(ascii: "#"), from: from) else {
            scanIndex = buffer.count
            let seen = buffer.count - start - 1
            if seen > maximumPayload {
                discarding = seen
                readIndex = buffer.count
                scanIndex = 0
                return .oversize(size: seen)
            }
            return nil
        }
        if hash - start - 1 > maximumPayload {
            readIndex = min(hash + 3, buffer.count)
            if hash + 2 >= buffer.count { discarding = 0; readIndex = hash }
            scanIndex = 0
            return .oversize(size: hash - start - 1)
        }
        guard hash + 2 < buffer.count else {
            scanIndex = hash
            return nil
        }
        scanIndex = 0
        readIndex = hash + 3
        let received = Hex.number(buffer[(hash + 1)...(hash + 2)]).map { UInt8($0) }
        let (computed, payload) = buffer.withUnsafeBytes { raw -> (UInt8, [UInt8]) in
            let body = UnsafeRawBufferPointer(rebasing: raw[(start + 1)..<hash])
            let (sum, special) = PacketCodec.scan(body)
            guard sum == received else { return (sum, []) }
            return (sum, special ? PacketCodec.expand(body) : Array(body))
        }
        guard computed == received else { return .corrupt(computed: computed, received: received) }
        return isNotification ? .notification(payload) : .packet(payload)
    }

    /// Undoes `}` escapes and run-length encoding.
    static func expand(_ body: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var i = 0
        while i < body.count {
            let b = body[i]
            if b == UInt8(ascii: "}"), i + 1 < body.count {
                out.append(body[i + 1] ^ 0x20)
                i += 2
            } else if b == UInt8(ascii: "*"), i + 1 < body.count, let last = out.last {
                let repeats = Int(body[i + 1]) - 29
                if repeats > 0 { out.append(contentsOf: repeatElement(last, count: repeats)) }
                i += 2
            } else {
                out.append(b)
                i += 1
            }
        }
        return out
    }
}

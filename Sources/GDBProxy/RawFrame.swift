import Glibc  // memchr

/// One unit of the remote protocol cut out of a byte stream *without* decoding it, so the
/// proxy can forward a packet exactly as it arrived (no unescaping, no re-framing, no copy).
enum RawFrame: Equatable {
    /// `+`
    case ack
    /// `-`
    case nak
    /// The 0x03 interrupt byte (only meaningful from a client).
    case interrupt
    /// `$…#cc` (or `%…#cc`): `frame` is the whole packet's range in the buffer, `payload` the
    /// bytes between `$` and `#` as they travel (escapes and run-length left in place).
    case packet(frame: Range<Int>, payload: Range<Int>, checksumOK: Bool, notification: Bool)
    /// A packet whose payload passed the size limit before its `#`: the peer is misbehaving.
    case oversize(size: Int)
}

/// A receive buffer that hands out ``RawFrame``s. Bytes belonging to no frame (line noise)
/// are skipped. The buffer is compacted only when the consumed prefix is large, so steady
/// traffic costs no allocation per packet.
struct RawFrameBuffer {
    /// The received bytes; only `bytes[readIndex..<count]` is unconsumed. Grown by doubling,
    /// never shrunk or zero-filled, so steady traffic costs no allocation per packet.
    private(set) var bytes: [UInt8]
    private(set) var count = 0
    private(set) var readIndex = 0
    /// How far the search for `#` got in the packet at `readIndex`.
    private var scanIndex = 0
    /// The largest payload accepted.
    let maximumPayload: Int

    init(maximumPayload: Int) {
        self.maximumPayload = maximumPayload
        bytes = [UInt8](repeating: 0, count: 1 << 16)
    }

    /// True while a packet has begun but not ended (a peer that closes now closed mid-packet).
    var isInsidePacket: Bool {
        readIndex < count && (bytes[readIndex] == UInt8(ascii: "$") || bytes[readIndex] == UInt8(ascii: "%"))
    }

    /// Appends what `receive` writes into spare room (at least `minimum` bytes of it); returns its result.
    mutating func fill(minimum: Int, _ receive: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        if readIndex > 0 && (readIndex == count || readIndex > bytes.count / 2) {
            // Move the unconsumed tail to the front (usually nothing: every packet was used).
            let tail = count - readIndex
            if tail > 0 { bytes.withUnsafeMutableBytes { p in p.baseAddress!.copyMemory(from: p.baseAddress! + readIndex, byteCount: tail) } }
            scanIndex = max(0, scanIndex - readIndex)
            count = tail
            readIndex = 0
        }
        if bytes.count - count < minimum { bytes += [UInt8](repeating: 0, count: max(bytes.count, minimum)) }
        let got = bytes.withUnsafeMutableBytes { raw in
            receive(UnsafeMutableRawBufferPointer(rebasing: raw[count...]))
        }
        if got > 0 { count += got }
        return got
    }

    /// Drops everything up to `index` (after a frame was handled).
    mutating func consume(upTo index: Int) { readIndex = index }

    /// The next frame, or nil when more bytes are needed. The frame's ranges stay valid until
    /// the next `fill`.
    mutating func next() -> (RawFrame, end: Int)? {
        while readIndex < count {
            let c = bytes[readIndex]
            switch c {
            case UInt8(ascii: "+"): readIndex += 1; return (.ack, readIndex)
            case UInt8(ascii: "-"): readIndex += 1; return (.nak, readIndex)
            case 0x03: readIndex += 1; return (.interrupt, readIndex)
            case UInt8(ascii: "$"), UInt8(ascii: "%"):
                let start = readIndex
                let from = max(start + 1, scanIndex)
                let hash: Int? = bytes.withUnsafeBytes { p in
                    guard from < count, let f = memchr(p.baseAddress! + from, Int32(UInt8(ascii: "#")), count - from) else { return nil }
                    return p.baseAddress!.distance(to: UnsafeRawPointer(f))
                }
                guard let hash else {
                    scanIndex = count
                    let seen = count - start - 1
                    if seen > maximumPayload { readIndex = count; scanIndex = 0; return (.oversize(size: seen), readIndex) }
                    return nil
                }
                if hash - start - 1 > maximumPayload {
                    readIndex = min(hash + 3, count); scanIndex = 0
                    return (.oversize(size: hash - start - 1), readIndex)
                }
                guard hash + 2 < count else { scanIndex = hash; return nil }
                scanIndex = 0
                let end = hash + 3
                readIndex = end
                var sum: UInt8 = 0
                for i in (start + 1)..<hash { sum &+= bytes[i] }
                let received = Self.hexValue(bytes[hash + 1]).flatMap { hi in Self.hexValue(bytes[hash + 2]).map { hi << 4 | $0 } }
                return (.packet(frame: start..<end, payload: (start + 1)..<hash, checksumOK: received == sum,
                                notification: c == UInt8(ascii: "%")), end)
            default:
                readIndex += 1
            }
        }
        return nil
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

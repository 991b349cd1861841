import GDBRemote

/// libFuzzer target: GDBRemote's packet codec fed the input in pieces (the first byte sets
/// the piece size and the payload limit), each decoded packet then parsed as a stop reply,
/// a qSupported reply, hex data and a hex number; and the codec's framing round trip.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard size > 0, let data else { return 0 }
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    let piece = Int(bytes[0] & 0x3F) + 1
    var codec = PacketCodec(maximumPayload: bytes[0] & 0x40 != 0 ? 64 : 1 << 20)
    var events = 0
    var i = 1
    while i < bytes.count {
        let end = min(i + piece, bytes.count)
        codec.append(bytes[i..<end])
        while let e = codec.next(), events < 100_000 {
            events += 1
            if case .packet(let payload) = e { parse(payload) }
            if case .notification(let payload) = e { parse(payload) }
        }
        i = end
    }
    _ = codec.isInsidePacket
    _ = codec.bufferedCount
    // Framing round trip: any payload comes back unchanged.
    let payload = Array(bytes.dropFirst())
    var back = PacketCodec()
    back.append(PacketCodec.frame(payload))
    guard case .packet(let decoded)? = back.next(), decoded == payload else { fatalError("frame/decode round trip lost the payload") }
    return 0
}

func parse(_ payload: [UInt8]) {
    if let stop = StopReply(payload) { _ = (stop.signal, stop.thread, stop.watchpointAddress, stop.description) }
    _ = StopReply.looksLikeStop(payload)
    let features = StubFeatures(reply: payload)
    _ = (features.packetSize, features.supports("multiprocess"))
    _ = Hex.decode(payload)
    _ = Hex.number(payload)
}

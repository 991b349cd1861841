/// The `qSupported` reply a client gets: QEMU's, with `QStartNoAckMode+` added when QEMU does
/// not offer it. Acks end at the proxy on both sides (each hop is a reliable stream), so a client
/// may drop them whatever QEMU does: gdb then sends one write per request instead of two, and
/// the proxy is not woken for a lone `+`.
enum Features {
    static let noAck = Array("QStartNoAckMode+".utf8)

    /// The frame to send for QEMU's reply `payload` (its bytes as they travelled, between `$` and `#`).
    static func offeringNoAck(_ payload: UnsafeRawBufferPointer) -> [UInt8] {
        var body = Array(payload)
        let offered = body.split(separator: UInt8(ascii: ";")).contains { $0.elementsEqual(noAck) }
        // An empty or error reply is passed on as it is (nothing is supported then).
        if !offered && !body.isEmpty && !(body.first == UInt8(ascii: "E") && body.count == 3) {
            body += [UInt8(ascii: ";")] + noAck
        }
        var sum: UInt8 = 0
        for b in body { sum &+= b }   // the payload keeps its escapes: summed as it travels
        let digits = Array("0123456789abcdef".utf8)
        return [UInt8(ascii: "$")] + body + [UInt8(ascii: "#"), digits[Int(sum >> 4)], digits[Int(sum & 15)]]
    }
}

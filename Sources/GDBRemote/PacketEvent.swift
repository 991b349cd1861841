/// One thing the stub said, as the ``PacketCodec`` cuts it out of the byte stream.
public enum PacketEvent: Equatable, Sendable {
    /// `+`: the stub received our last packet intact.
    case ack
    /// `-`: the stub received our last packet damaged and wants it again.
    case nak
    /// `$payload#cc` with a correct checksum. The payload is already unescaped (`}`) and
    /// run-length expanded (`*`).
    case packet([UInt8])
    /// `%payload#cc`: an asynchronous notification (non-stop mode). Clients that do not use
    /// non-stop mode ignore it; it is never the reply to a request.
    case notification([UInt8])
    /// A `$…#cc` packet whose checksum did not match: `computed` over what arrived, `received`
    /// as the two digits after `#` said (or `nil` if those were not hex).
    case corrupt(computed: UInt8, received: UInt8?)
    /// A packet longer than ``PacketCodec/maximumPayload``; its bytes were discarded up to
    /// its end. `size` is how many bytes had been seen when it was cut.
    case oversize(size: Int)
}

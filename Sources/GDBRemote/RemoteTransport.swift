/// A byte stream to a stub: the only thing ``PacketConnection`` needs from the outside world.
///
/// ``SocketTransport`` is the real one (TCP and Unix sockets). Tests may supply their own to
/// inject faults. Every call is bounded by a timeout; none may block forever.
public protocol RemoteTransport: AnyObject {
    /// Writes all of `bytes`, waiting at most `timeout` for the peer to make room.
    func send(_ bytes: UnsafeRawBufferPointer, timeout: Duration) throws
    /// Reads what is available into `buffer` (at least one byte), waiting at most `timeout`.
    /// Returns 0 when the peer closed the connection; throws ``GDBRemoteError/timedOut`` when
    /// nothing arrived in time (with `request` empty: the caller names the request).
    func receive(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration) throws -> Int
    /// Closes the connection. Further calls fail; closing twice is harmless.
    func close()
    /// The address, for error messages.
    var peerDescription: String { get }
}

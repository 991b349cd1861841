/// A `TextSink` writing into a fixed buffer; bytes past its capacity are dropped (and counted).
public struct BufferSink: TextSink {
    public let base: UnsafeMutablePointer<UInt8>
    public let capacity: Int
    /// Bytes written (at most `capacity`).
    public private(set) var count = 0
    /// Bytes that did not fit.
    public private(set) var dropped = 0

    public init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    public mutating func put(_ byte: UInt8) {
        if count < capacity { base[count] = byte; count += 1 } else { dropped += 1 }
    }
}

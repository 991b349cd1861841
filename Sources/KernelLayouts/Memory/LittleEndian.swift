/// The little-endian unsigned value of up to 8 bytes (guest memory on x86_64).
/// Public for the kernels' decoders (BundledKernel) that read guest memory through KernelLayouts.
@inlinable @inline(__always)
public func littleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
}

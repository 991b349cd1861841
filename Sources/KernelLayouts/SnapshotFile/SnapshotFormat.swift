import CZlib

/// The layout of a snapshot file (docs/snapshot-format.md), format 1. All integers are
/// little-endian.
///
/// ```
/// 0   8  magic "KMEMSNAP"
/// 8   4  format version (1)
/// 12  4  header text length H
/// 16  4  region count R
/// 20  4  zero
/// 24  H  header text: UTF-8 lines "key: value" (SnapshotHeader)
/// …      zero padding to a multiple of 8
///     R × 40  region table (SnapshotRegion): space u32, crc32 u32, address u64,
///             length u64, file offset u64, zero u64
/// …      region bytes, each at its offset (a multiple of 4096), in table order
/// ```
public enum SnapshotFormat {
    /// The file's first eight bytes.
    public static let magic: [UInt8] = Array("KMEMSNAP".utf8)
    /// The format this kmemscope writes and reads.
    public static let version: UInt32 = 1
    /// Bytes before the header text.
    public static let prefixSize = 24
    /// Bytes per region-table entry.
    public static let regionEntrySize = 40
    /// Region data starts at multiples of this (so a region can be mapped in place).
    public static let dataAlignment = 4096
    /// Bounds a reader enforces before trusting a count from the file.
    public static let maxHeaderSize = 1 << 20
    public static let maxRegions = 1 << 20

    /// zlib's CRC-32 of `bytes`, continuing `previous` (nil: a new sum), in pieces of at most
    /// 1 GiB (zlib's length argument is 32 bits). What the writer stores and the reader checks.
    public static func crc(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32? = nil) -> UInt32 {
        var c = previous.map { uLong($0) } ?? crc32(0, nil, 0)
        var done = 0
        while done < bytes.count {
            let n = min(bytes.count - done, 1 << 30)
            c = crc32(c, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + done, UInt32(n))
            done += n
        }
        return UInt32(truncatingIfNeeded: c)
    }

    /// The space number in the region table.
    static func code(_ space: AddressSpace) -> UInt32 { space == .kernelVirtual ? 0 : 1 }
    static func space(_ code: UInt32) -> AddressSpace? { code == 0 ? .kernelVirtual : code == 1 ? .guestPhysical : nil }
}

/// One stretch of guest memory a snapshot holds.
public struct SnapshotRegion: Sendable, Equatable {
    /// Kernel-virtual (what no window of the address map translates) or guest-physical.
    public var space: AddressSpace
    /// The first address held.
    public var address: UInt64
    /// Bytes held.
    public var length: UInt64
    /// Where the bytes start in the file.
    public var offset: UInt64
    /// CRC-32 (zlib's) of the bytes.
    public var crc: UInt32

    public init(space: AddressSpace, address: UInt64, length: UInt64, offset: UInt64, crc: UInt32) {
        self.space = space
        self.address = address
        self.length = length
        self.offset = offset
        self.crc = crc
    }

    /// One past the last address held.
    public var end: UInt64 { address &+ length }
}

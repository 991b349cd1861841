/// A streamed FrameMeta array: fixed windows of records read on demand into a direct-mapped
/// cache of buffers (window `w` lives in slot `w % slots`). Memory is `slots × windowFrames ×
/// stride` bytes whatever the table's size (32 MiB by default for 64-byte records); a linear
/// pass reads each window once, a list walk re-reads the windows it jumps between.
@usableFromInline
final class FrameWindows: @unchecked Sendable {
    let stride: Int
    let count: Int
    let windowFrames: Int
    let slots: Int
    let read: (Int, UnsafeMutableRawBufferPointer) throws -> Void
    /// The slots' buffers, one after the other.
    let storage: UnsafeMutableRawBufferPointer
    /// The window each slot holds, -1 for none (a raw buffer: an array property of a class
    /// costs a dynamic exclusivity check on every access, and this is read for every frame).
    let tags: UnsafeMutablePointer<Int>
    /// The first read error (the window then holds zeros).
    private(set) var failure: (any Error)?
    /// Windows read so far (misses).
    private(set) var reads = 0

    /// log2(windowFrames).
    let windowShift: Int

    /// `windowFrames` and `slots` are rounded down to powers of two (a shift and a mask per access).
    init(stride: Int, count: Int, windowFrames: Int, slots: Int, read: @escaping (Int, UnsafeMutableRawBufferPointer) throws -> Void) {
        self.stride = stride
        self.count = count
        windowShift = Int.bitWidth - 1 - max(windowFrames, 1).leadingZeroBitCount
        self.windowFrames = 1 << windowShift
        self.slots = 1 << (Int.bitWidth - 1 - max(slots, 1).leadingZeroBitCount)
        let windowFrames = self.windowFrames, slots = self.slots
        self.read = read
        storage = .allocate(byteCount: slots * windowFrames * stride, alignment: 64)
        tags = .allocate(capacity: slots)
        tags.initialize(repeating: -1, count: slots)
    }

    deinit {
        storage.deallocate()
        tags.deallocate()
    }

    /// The record of frame `index` (below `count`), reading its window when it is not cached.
    @inline(__always)
    func pointer(_ index: Int) -> UnsafeRawPointer {
        let w = index >> windowShift
        let slot = w & (slots - 1)
        if tags[slot] != w { fill(w, slot) }
        return UnsafeRawPointer(storage.baseAddress!) + (slot << windowShift + (index & (windowFrames - 1))) * stride
    }

    /// Reads window `w` into `slot` (a miss).
    @usableFromInline
    func fill(_ w: Int, _ slot: Int) {
        let first = w * windowFrames
        let frames = min(windowFrames, count - first)
        let buffer = UnsafeMutableRawBufferPointer(rebasing: storage[(slot * windowFrames * stride)..<((slot * windowFrames + frames) * stride)])
        do {
            try read(first * stride, buffer)
        } catch {
            if failure == nil { failure = error }
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
        }
        tags[slot] = w
        reads += 1
    }
}

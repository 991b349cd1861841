import AllocatorText
import LinuxKernel

/// `slabinfo --kernel linux --json`: SLUB's caches as /proc/slabinfo counts them, in
/// `slab_caches` order, and the text's lines.
struct LinuxSlabinfoJSON: Encodable {
    struct Cache: Encodable {
        var name: String
        /// /proc/slabinfo's active_objs: objects minus the free ones on the partial slabs.
        var activeObjects: Int
        var objects: Int
        /// `s->size` (slabinfo's objsize) and `s->object_size` (what callers asked for).
        var size: UInt32
        var objectSize: UInt32
        var objectsPerSlab: Int
        var pagesPerSlab: Int
        var slabs: Int
        var partialSlabs: Int
    }
    var schemaVersion = 1
    var kernel = "linux"
    var caches: [Cache]
    var lines: [String]
    /// The walk of `slab_caches` and each cache's lists, where they did not close.
    var brokenLists: [String]

    init(_ state: SlubState) {
        caches = state.caches.map {
            Cache(name: $0.name, activeObjects: $0.activeObjects, objects: $0.objects, size: $0.size, objectSize: $0.objectSize,
                  objectsPerSlab: $0.objectsPerSlab, pagesPerSlab: $0.pagesPerSlab, slabs: $0.slabs, partialSlabs: $0.partialSlabs)
        }
        lines = ProcText.slabinfo(heap: state.heapView).split(separator: "\n").map(String.init)
        brokenLists = (state.listIssue.map { [$0] } ?? []) + state.caches.flatMap { c in c.issues.map { "\(c.name) \($0)" } }
    }
}

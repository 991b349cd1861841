import BundledState
import AllocatorView
import BundledKernel
import LinuxKernel

/// The allocator view of a guest, and what only its source knows beside it.
struct ViewRead {
    var view: AllocatorView
    /// Linux: the target the view came from (its orders, `struct page`'s size, KASLR offset and
    /// BTF, which headings and documents name); nil for the bundled kernel.
    var linux: LinuxKernelTarget?
    /// Linux: from the start to the attached, typed target (attach, BTF, settle), and the decode.
    var attachTime: Duration = .zero
    var decodeTime: Duration = .zero
}

/// The views' source stage: the guest's allocator view, whichever kernel. The bundled kernel:
/// the held read (``GuestSource``) → `SnapshotDecoder` → `FreeListCensus` → the view; Linux:
/// the attach (``LinuxAttach``) → every node's buddy state → the view. What comes after —
/// the renderer, the document — is the same code for both.
struct ViewSource {
    var profile: KernelProfileOptions
    var image: ImageOptions
    var stub: TargetOptions
    var settling: SettleOptions

    /// Reads the view. `linuxView` makes Linux's view of its nodes' buddy states (by default
    /// the free lists; pagetypeinfo adds the pageblocks); it runs while the guest is held.
    func read(in context: CommandContext,
              linuxView: (LinuxKernelTarget, [LinuxBuddyState]) throws -> AllocatorView = { $0.allocatorView($1) }) throws -> ViewRead {
        guard profile.isLinux else {
            let snapshot = try GuestSource(image, stub, in: context).read(settling: settling) { s in
                try SnapshotDecoder(info: s.info, memory: s.memory).decode()
            }
            return ViewRead(view: snapshot.allocatorView(FreeListCensus(snapshot)))
        }
        let clock = ContinuousClock()
        let start = clock.now
        return try LinuxAttach.run(profile, stub, in: context, settling: settling) { linux in
            let typed = clock.now
            let states = try LinuxAttach.allNodes(linux, in: context).map { try linux.decodeBuddy(node: $0) }
            let decoded = clock.now
            return ViewRead(view: try linuxView(linux, states), linux: linux, attachTime: typed - start, decodeTime: decoded - typed)
        }
    }
}

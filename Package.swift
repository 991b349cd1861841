// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "kmemscope",
    products: [
        .executable(name: "kmemscope", targets: ["kmemscope"]),
        .library(name: "GDBRemote", targets: ["GDBRemote"]),
        .library(name: "KernelLayouts", targets: ["KernelLayouts"]),
        .library(name: "BundledState", targets: ["BundledState"]),
        .library(name: "AllocatorModel", targets: ["AllocatorModel"]),
        .library(name: "BundledChecks", targets: ["BundledChecks"]),
        .library(name: "AllocatorView", targets: ["AllocatorView"]),
        .library(name: "AllocatorText", targets: ["AllocatorText"]),
        .library(name: "AllocatorChecks", targets: ["AllocatorChecks"]),
        .library(name: "KernelSession", targets: ["KernelSession"]),
        .library(name: "KernelMM", targets: ["KernelMM"]),
        .library(name: "BundledKernel", targets: ["BundledKernel"]),
        .library(name: "LinuxKernel", targets: ["LinuxKernel"]),
        .library(name: "QEMULauncher", targets: ["QEMULauncher"]),
        .library(name: "GDBProxy", targets: ["GDBProxy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries from Debian's libelf-dev / libdw-dev, found through pkg-config.
        .systemLibrary(name: "CLibElf", path: "Sources/CLibElf", pkgConfig: "libelf",
                       providers: [.apt(["libelf-dev"])]),
        .systemLibrary(name: "CLibDW", path: "Sources/CLibDW", pkgConfig: "libdw",
                       providers: [.apt(["libdw-dev"])]),
        .systemLibrary(name: "CLibBPF", path: "Sources/CLibBPF", pkgConfig: "libbpf",
                       providers: [.apt(["libbpf-dev"])]),
        // CRC-32 of a snapshot file's regions (Debian's zlib1g-dev).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // kdump-compressed vmcores (makedumpfile's format, QEMU's dump-guest-memory -z) through
        // Debian's libkdumpfile-dev.
        .systemLibrary(name: "CLibKdumpfile", path: "Sources/CLibKdumpfile", pkgConfig: "libkdumpfile",
                       providers: [.apt(["libkdumpfile-dev"])]),
        // Line editing, history and completion for the `attach` console (Debian's libedit-dev).
        .systemLibrary(name: "CLibEdit", path: "Sources/CLibEdit", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),

        .target(name: "GDBRemote"),
        // `kmemscope proxy`: one QEMU gdbstub shared by gdb and kmemscope (docs/proxy.md).
        // Optimised even in debug builds: every packet gdb sends passes through it.
        .target(name: "GDBProxy", dependencies: ["GDBRemote"], swiftSettings: [.unsafeFlags(["-O"])]),
        // The one QEMU launcher: `kmemscope boot`, `bisect`, the demo and the tests start QEMU through it.
        .target(name: "QEMULauncher"),
        // The kernel-neutral allocator view (nodes → zones → free areas → blocks, per-CPU
        // caches, the heap) every kernel's decoder produces, and the bounded list walk.
        .target(name: "AllocatorView"),
        // The views written once against it: /proc's buddyinfo, pagetypeinfo, zoneinfo,
        // slabinfo, and zones --tree.
        .target(name: "AllocatorText", dependencies: ["AllocatorView"]),
        // The checks that hold for any buddy allocator (list links, order and alignment, one
        // list, no overlap, buddies merged, counters), written once against the view; each
        // kernel's verifier runs them beside its own. Optimised even in debug builds: verify runs them.
        .target(name: "AllocatorChecks", dependencies: ["AllocatorView"], swiftSettings: [.unsafeFlags(["-O"])]),
        // The bundled kernel's state as plain values (KernelSnapshot and its parts, the operation
        // log's records, the BUG record) and what they say: the free-list census, the same state as
        // the kernel-neutral view, one frame, one address, two snapshots' difference. No I/O.
        // Optimised even in debug builds: every check and view reads its frame table frame by frame.
        .target(name: "BundledState", dependencies: ["AllocatorView"], swiftSettings: [.unsafeFlags(["-O"])]),
        // The reference model (the contract written a second time) and the replay of the
        // operation log through it, compared with a snapshot.
        // Optimised even in debug builds: replay and the model's comparison walk every frame of the guest.
        .target(name: "AllocatorModel", dependencies: ["BundledState", "AllocatorView"], swiftSettings: [.unsafeFlags(["-O"])]),
        // The bundled kernel's verifier: its named checks beside the generic ones (AllocatorChecks),
        // the zone parameters against the model's formulas, and a halted kernel's post-mortem.
        // Optimised even in debug builds: verify and watch walk every frame of the guest.
        .target(name: "BundledChecks", dependencies: ["BundledState", "AllocatorModel", "AllocatorChecks", "AllocatorView"],
                swiftSettings: [.unsafeFlags(["-O"])]),
        // Kernel images and guest memory: ELF symbols, DWARF layouts, the layout descriptor,
        // memory sources, the page-table walk, snapshot files, vmcores. No kernel's allocator.
        .target(name: "KernelLayouts", dependencies: ["AllocatorView", "CLibElf", "CLibDW", "CZlib", "CLibKdumpfile"]),
        // The bundled kernel's decoder, beside LinuxKernel: its memory, read through the
        // descriptor, as a KernelSnapshot (SnapshotDecoder), its operation log, per-CPU areas,
        // BUG record and free-page poison; and report's page from a snapshot and its verify
        // report (MemoryMapReport: hence the checks and the model's large-heap owner).
        .target(name: "BundledKernel", dependencies: ["KernelLayouts", "BundledState", "BundledChecks", "AllocatorModel", "AllocatorView", "AllocatorText"]),
        // A session with a guest: attach, remember the run state, settle to an operation
        // boundary, read, restore (on errors and signals too). One-shot commands use it today.
        .target(name: "KernelSession", dependencies: ["GDBRemote", "KernelLayouts", "BundledKernel", "BundledState"]),
        // A stock Linux guest: symbols from System.map/kallsyms, types from BTF (libbpf), and
        // the buddy allocator's free lists decoded from guest memory.
        .target(name: "LinuxKernel", dependencies: ["GDBRemote", "KernelLayouts", "AllocatorView", "AllocatorChecks", "CLibBPF"]),
        // The kernel's allocator sources, compiled unchanged for the host: the very files
        // the Embedded Swift kernel builds (see kernel/Makefile.inc).
        // Optimised even in debug builds: the property tests run its self-check after every
        // one of ~50,000 random operations.
        // Debug builds (the tests) compile the debug-VM checks in (kernel/mm/DebugVM.swift); release
        // builds (the benchmarks) do not, as the kernel's default build does not.
        .target(name: "KernelMM", path: "kernel/mm", swiftSettings: [.unsafeFlags(["-O"]), .define("KMEM_DEBUG_VM", .when(configuration: .debug))]),
        // The one host harness: KernelMM booted over an mmap'd buffer with a test memory map,
        // read back through kmem_info and a GuestMemory as the CLI reads a guest. The KernelMM
        // and differential tests, model-bench, kmem-bench and the fuzz build (scripts/fuzz.sh) share it.
        .target(name: "KernelHarness", dependencies: ["KernelMM", "KernelLayouts", "BundledKernel", "BundledState"]),
        // Benchmark driver for scripts/bench-gdbremote.sh (reads guest memory, prints MiB/s).
        .executableTarget(name: "gdbremote-bench", dependencies: ["GDBRemote"]),
        // Host benchmark of the kernel's allocator (scripts/bench-allocator.sh).
        .executableTarget(name: "kmem-bench", dependencies: ["KernelMM", "KernelHarness"]),
        // Benchmark driver for scripts/bench-model.sh (replay speed of the reference model on a KernelMM log).
        .executableTarget(name: "model-bench", dependencies: ["AllocatorModel", "BundledState", "KernelLayouts", "KernelMM", "KernelHarness"]),
        // Test tool (issue 10): writes corruption into a stopped guest through the stub and
        // reports which check notices it; scripts/fault-matrix.sh makes docs/fault-matrix.md.
        .target(name: "CorruptionTool", dependencies: ["GDBRemote", "KernelLayouts", "BundledKernel", "BundledState", "BundledChecks"]),
        .executableTarget(name: "kmem-corrupt", dependencies: [
            "CorruptionTool", "KernelSession", "KernelLayouts", "BundledKernel", "GDBRemote", "BundledState", "BundledChecks",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "kmemscope", dependencies: [
            "GDBRemote", "KernelLayouts", "BundledKernel", "KernelSession", "BundledState", "BundledChecks", "AllocatorModel", "AllocatorView", "AllocatorText", "LinuxKernel", "QEMULauncher", "CLibEdit", "GDBProxy",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Test support: a scripted GDB stub and a listener that never answers.
        .target(name: "StubSupport", dependencies: ["GDBRemote"], path: "Tests/StubSupport"),
        // Headless Chromium for the tests that look at the report page (screenshots, DOM, pixels).
        .target(name: "BrowserSupport", path: "Tests/BrowserSupport"),
        // the console's terminal tests (tmux), for the bundled kernel's and Linux's console
        .target(name: "TerminalSupport", dependencies: ["BrowserSupport"], path: "Tests/TerminalSupport"),
        .testTarget(name: "GDBRemoteTests", dependencies: ["GDBRemote", "StubSupport", "QEMULauncher"]),
        .testTarget(name: "KernelSessionTests", dependencies: ["KernelSession", "KernelLayouts", "GDBRemote", "StubSupport"]),
        .testTarget(name: "KernelLayoutsTests", dependencies: ["KernelLayouts", "BundledKernel", "KernelMM"],
                    exclude: ["Fixtures/ImageSources", "Snapshots"]),
        // The bundled kernel's state, its verifier and the reference model, on snapshots built by hand.
        .testTarget(name: "AllocatorModelTests", dependencies: ["AllocatorModel", "BundledState", "BundledChecks", "AllocatorText"]),
        // The allocator view: both kernels' producers against the views they replaced, and
        // every renderer on a view built by hand.
        .testTarget(name: "AllocatorViewTests", dependencies: ["AllocatorView", "AllocatorText", "BundledState", "LinuxKernel"]),
        // The buddy-generic checks on hand-built views: each broken rule found and named.
        .testTarget(name: "AllocatorChecksTests", dependencies: ["AllocatorChecks", "AllocatorView"]),
        .testTarget(name: "KernelMMTests", dependencies: ["KernelMM", "KernelHarness", "KernelLayouts"]),
        // The reference model beside the kernel's allocator on the same random operations.
        .testTarget(name: "ModelDifferentialTests", dependencies: ["AllocatorModel", "BundledState", "BundledChecks", "AllocatorText", "KernelLayouts", "BundledKernel", "KernelMM", "KernelHarness", "BrowserSupport"]),
        .testTarget(name: "QEMULauncherTests", dependencies: ["QEMULauncher"]),
        // The proxy's pure parts, and faults from a scripted stub (the real-QEMU tests are in KernelDebugTests).
        .testTarget(name: "GDBProxyTests", dependencies: ["GDBProxy", "GDBRemote", "StubSupport"]),
        .testTarget(name: "KernelBootTests", dependencies: ["KernelMM", "QEMULauncher"]),
        // The kernel's debugger contract through QEMU's gdbstub: breakpoints, kmem_stop_seq, kmem_info.
        .testTarget(name: "KernelDebugTests", dependencies: ["GDBRemote", "KernelLayouts", "BundledKernel", "KernelSession", "KernelMM", "QEMULauncher", "BundledState", "BundledChecks", "AllocatorText", "CorruptionTool", "BrowserSupport", "TerminalSupport"]),
        // A stock Debian kernel in QEMU (scripts/linux-guest.sh fetches it into the cache).
        .testTarget(name: "LinuxGuestTests", dependencies: ["GDBRemote", "LinuxKernel", "AllocatorText", "KernelLayouts", "QEMULauncher", "BrowserSupport", "TerminalSupport"],
                    exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)

import ArgumentParser

/// Options of the commands that read the allocator's state at an operation boundary.
struct SettleOptions: ParsableArguments {
    @Flag(name: .long, help: "Let a guest found stopped inside an allocator operation run to the end of it (it stops again there). A running guest is always settled.")
    var settle = false
}

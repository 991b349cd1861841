// The kernel-neutral allocator view and the bounded list walk (which lived here as
// BoundedListWalk.swift) come with LinuxKernel: its decoders walk with ListWalk, and
// LinuxBuddyState+AllocatorView produces the view.
@_exported import AllocatorView

import Testing
@testable import KernelMM

/// The frame state machine catches an illegal move at the step that makes it.
@Suite("Frame state machine")
struct FrameStateTests {
    @Test func legalMoves() {
        #expect(PageAllocator.isLegal(from: .free, to: .allocated))
        #expect(PageAllocator.isLegal(from: .pcp, to: .allocated))
        #expect(PageAllocator.isLegal(from: .allocated, to: .free))
        #expect(PageAllocator.isLegal(from: .free, to: .reserved))
        #expect(PageAllocator.isLegal(from: [], to: .reserved))
        #expect(!PageAllocator.isLegal(from: .allocated, to: .pcp))
        #expect(!PageAllocator.isLegal(from: .allocated, to: .reserved))
        #expect(!PageAllocator.isLegal(from: .reserved, to: .allocated))
        #expect(!PageAllocator.isLegal(from: .reserved, to: .pcp))
        #expect(!PageAllocator.isLegal(from: [.free, .allocated], to: .allocated))
    }

    @Test func anIllegalMoveStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let a = try Arena()
            let p = try #require(try a.allocator.allocate(AllocationRequest(order: 0)))
            a.allocator.transition(a.allocator.meta(p), to: .pcp, head: false)
        }
    }
}

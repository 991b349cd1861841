@testable import KernelLayouts
import Testing

/// The DWARF layout arithmetic on values no compiler emits but a hostile or damaged file can
/// carry (issue 24): rounding and strides that would overflow 64 bits are refused, not trapped on.
@Suite("DWARF layout arithmetic")
struct LayoutArithmeticTests {
    @Test func roundingUpNeverOverflows() {
        #expect(LayoutResolver.roundUp(13, to: 8) == 16)
        #expect(LayoutResolver.roundUp(16, to: 8) == 16)
        #expect(LayoutResolver.roundUp(5, to: 0) == 5, "an alignment of 0 is taken as 1")
        #expect(LayoutResolver.roundUp(.max, to: 8) == nil)
        #expect(LayoutResolver.roundUp(UInt64.max - 6, to: 8) == nil)
        #expect(LayoutResolver.roundUp(UInt64.max - 7, to: 8) == UInt64.max - 7)
        #expect(LayoutResolver.roundUp(.max, to: 1) == .max)
    }

    @Test func strideIsAtLeastOneAndNilOnOverflow() {
        #expect(LayoutResolver.stride(size: 0, alignment: 1) == 1)
        #expect(LayoutResolver.stride(size: 9, alignment: 8) == 16)
        #expect(LayoutResolver.stride(size: .max, alignment: 16) == nil)
    }
}

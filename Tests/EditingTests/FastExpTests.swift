import Foundation
import Testing

@testable import Editing

@Suite("Vectorised exp") struct FastExpTests {
  /// Relative error within 4 ulp of fp32 against the libm exp (in fp64) over [-87, 88],
  /// 0 below the underflow cut-off, finite at the top.
  @Test func accurateOverTheFloatRange() {
    var worst = 0.0
    var x: Float = -87
    while x < 88 {
      let v = FastExp.V(x, x + 0.001, x + 0.37, x + 0.5, x - 0.25, x + 0.125, x + 0.9, x + 0.0625)
      let e = FastExp.exp8(v)
      for i in 0..<8 where v[i] <= 88 && v[i] >= -87 {
        let ref = Foundation.exp(Double(v[i]))
        worst = max(worst, abs(Double(e[i]) - ref) / ref)
      }
      x += 0.731
    }
    #expect(worst <= 4 * Double(Float.ulpOfOne), "max relative error \(worst)")
    #expect(FastExp.exp1(-100) == 0)
    #expect(FastExp.exp1(0) == 1)
    #expect(FastExp.exp1(100).isFinite)
  }
}

import CKernels
import Foundation
import Testing

@testable import Editing
@testable import Linalg

/// The C kernels of the forward pass (whichever instruction-set clone this CPU runs) against
/// naive fp64 references. Bounds: fp32 rounding of a few operations per element, i.e. a small
/// multiple of eps32 relative, plus the exp polynomial's own 2 ulp.
@Suite("Forward-pass kernels") struct KernelTests {
  let eps = Double(Float.ulpOfOne)

  /// Relative error within 4 ulp of fp32 against libm's exp (in fp64) over [-87, 88], 0 below
  /// the underflow cut-off, finite above the top.
  @Test func expAccurateOverTheFloatRange() {
    let x = stride(from: Float(-87), to: 88, by: 0.0173).map { $0 }
    var y = [Float](repeating: 0, count: x.count)
    kev_exp(&y, x, x.count)
    var worst = 0.0
    for (xi, yi) in zip(x, y) {
      let ref = Foundation.exp(Double(xi))
      worst = max(worst, abs(Double(yi) - ref) / ref)
    }
    #expect(worst <= 4 * eps, "max relative error \(worst)")
    var edge = [Float](repeating: 0, count: 3)
    kev_exp(&edge, [-100, 0, 100], 3)
    #expect(edge[0] == 0 && edge[1] == 1 && edge[2].isFinite)
  }

  @Test(arguments: [1, 7, 8, 33, 500]) func softmaxPrefixMatchesReference(visible: Int) {
    let length = visible + 13
    var col = (0..<length).map { Float(sin(Double($0) * 1.7) * 9) }
    let ref: [Double] = {
      let v = col[0..<visible].map(Double.init)
      let m = v.max()!
      let e = v.map { Foundation.exp($0 - m) }
      let s = e.reduce(0, +)
      return e.map { $0 / s }
    }()
    kev_softmax_prefix(&col, visible, length)
    for i in 0..<visible {
      #expect(abs(Double(col[i]) - ref[i]) <= 8 * eps * max(ref[i], 1 / Double(visible)), "entry \(i)")
    }
    #expect(col[visible...].allSatisfy { $0 == 0 }, "masked entries must be 0")
  }

  @Test func swigluMatchesReference() {
    let n = 1003
    let gate = (0..<n).map { Float(sin(Double($0) * 0.37) * 12) }
    var up = (0..<n).map { Float(cos(Double($0) * 0.11) * 3) }
    let ref = zip(gate, up).map { g, u in Double(g) / (1 + Foundation.exp(-Double(g))) * Double(u) }
    kev_swiglu(&up, gate, n)
    for i in 0..<n { #expect(abs(Double(up[i]) - ref[i]) <= 8 * eps * abs(ref[i]) + 1e-30, "entry \(i)") }
  }

  @Test func rmsNormMatchesReference() {
    let d = 77, t = 5
    let x = Matrix<Float>(rows: d, columns: t) { i, j in Float(sin(Double(i * 3 + j)) * Double(j + 1)) }
    let w = (0..<d).map { Float(1 + 0.01 * Double($0)) }
    var out = Matrix<Float>(rows: d, columns: t)
    LlamaKernels.rmsNorm(&out, x, w, eps: 1e-5)
    for j in 0..<t {
      let ms = (0..<d).reduce(0.0) { $0 + Double(x[$1, j]) * Double(x[$1, j]) } / Double(d)
      for i in 0..<d {
        let ref = Double(x[i, j]) / (ms + 1e-5).squareRoot() * Double(w[i])
        #expect(abs(Double(out[i, j]) - ref) <= 8 * eps * abs(ref) + 1e-30, "(\(i), \(j))")
      }
    }
  }

  /// The table-driven RoPE against the rotation written out in fp64, at positions far from 0
  /// (the angles there are where fp32 would lose digits if computed in fp32).
  @Test func ropeMatchesReference() {
    let heads = 3, hd = 8, ropeDims = 8, t = 4, start = 1000
    let base = 10000.0
    let x0 = Matrix<Float>(rows: heads * hd, columns: t) { i, j in Float(cos(Double(i * 7 + j))) }
    var x = x0
    LlamaKernels.rope(&x, heads: heads, headDim: hd, ropeDims: ropeDims, base: base, start: start)
    for j in 0..<t {
      let p = Double(start + j)
      for h in 0..<heads {
        for i in 0..<ropeDims / 2 {
          let th = p * pow(base, -2 * Double(i) / Double(ropeDims))
          let a = Double(x0[h * hd + 2 * i, j]), b = Double(x0[h * hd + 2 * i + 1, j])
          let r0 = a * cos(th) - b * sin(th), r1 = a * sin(th) + b * cos(th)
          #expect(abs(Double(x[h * hd + 2 * i, j]) - r0) <= 8 * eps, "head \(h) pair \(i) position \(j)")
          #expect(abs(Double(x[h * hd + 2 * i + 1, j]) - r1) <= 8 * eps, "head \(h) pair \(i) position \(j)")
        }
      }
    }
  }
}

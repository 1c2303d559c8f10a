import CKernels
import Foundation
import Testing

@testable import Editing
@testable import Linalg
@testable import Models

/// The C kernels of the forward pass (whichever instruction-set clone this CPU runs) against
/// naive fp64 references. Bounds: fp32 rounding of a few operations per element, i.e. a small
/// multiple of eps32 relative, plus the exp polynomial's own 2 ulp.
/// Every test runs each build this CPU can execute (AVX-512, AVX2 + FMA, baseline), forced in
/// turn on its own thread (the forced build is thread-local: suites running meanwhile keep the
/// CPU's build, so their bit-for-bit comparisons are unaffected).
@Suite("Forward-pass kernels", .serialized) struct KernelTests {
  let eps = Double(Float.ulpOfOne)

  /// The builds to test: every level up to the CPU's.
  static let levels: [Int] = [4, 3, 1].filter { $0 <= Int(kev_kernels_supported_level()) }

  /// Forces `level` and checks that it took effect (so a test really ran that build).
  func use(_ level: Int) {
    #expect(kev_kernels_force_level(Int32(level)) == Int32(level))
  }

  /// Relative error within 4 ulp of fp32 against libm's exp (in fp64) over [-87, 88], 0 below
  /// the underflow cut-off, finite above the top.
  @Test(arguments: KernelTests.levels) func expAccurateOverTheFloatRange(level: Int) {
    use(level)
    defer { _ = kev_kernels_force_level(0) }
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

  /// Per entry, relative to the exact softmax p_i (u = eps / 2): x_i - m is rounded once,
  /// an absolute error u |x_i - m| in the argument, i.e. that much relative error in e_i; exp
  /// itself adds at most 4 eps (the test above); the sum of n positive terms kept in 16 lanes
  /// and then added up adds at most (ceil(n / 16) + 16) u relative; the reciprocal and the
  /// product add 2 u. Hence |p~_i - p_i| <= p_i (u |x_i - m| + 4 eps + (ceil(n/16) + 18) u),
  /// first order, and the terms of the sum carry exp's error too (another 4 eps + the largest
  /// u |x - m| at most, relative to the sum).
  @Test(arguments: KernelTests.levels, [1, 7, 8, 33, 500]) func softmaxPrefixMatchesReference(level: Int, visible: Int)
  {
    use(level)
    defer { _ = kev_kernels_force_level(0) }
    let length = visible + 13
    var col = (0..<length).map { Float(sin(Double($0) * 1.7) * 9) }
    let x = col[0..<visible].map(Double.init)
    let m = x.max()!
    let ref: [Double] = {
      let e = x.map { Foundation.exp($0 - m) }
      let s = e.reduce(0, +)
      return e.map { $0 / s }
    }()
    let u = eps / 2
    let spread = x.map { m - $0 }.max()!
    let sumError = 4 * eps + u * spread + Double((visible + 15) / 16 + 18) * u
    kev_softmax_prefix(&col, visible, length)
    for i in 0..<visible {
      let bound = ref[i] * (u * (m - x[i]) + 4 * eps + sumError)
      #expect(abs(Double(col[i]) - ref[i]) <= bound + Double(Float.leastNonzeroMagnitude), "entry \(i)")
    }
    #expect(col[visible...].allSatisfy { $0 == 0 }, "masked entries must be 0")
  }

  @Test(arguments: KernelTests.levels) func swigluMatchesReference(level: Int) {
    use(level)
    defer { _ = kev_kernels_force_level(0) }
    let n = 1003
    let gate = (0..<n).map { Float(sin(Double($0) * 0.37) * 12) }
    var up = (0..<n).map { Float(cos(Double($0) * 0.11) * 3) }
    let ref = zip(gate, up).map { g, u in Double(g) / (1 + Foundation.exp(-Double(g))) * Double(u) }
    kev_swiglu(&up, gate, n)
    for i in 0..<n { #expect(abs(Double(up[i]) - ref[i]) <= 8 * eps * abs(ref[i]) + 1e-30, "entry \(i)") }
  }

  /// SwiGLU's backward pass against fp64: each output within 16 eps of the sum of its terms'
  /// magnitudes (sigmoid through kev_exp's 4 ulp, then a few products).
  @Test(arguments: KernelTests.levels) func swigluBackwardMatchesReference(level: Int) {
    use(level)
    defer { _ = kev_kernels_force_level(0) }
    let n = 1003
    let gate = (0..<n).map { Float(sin(Double($0) * 0.37) * 12) }
    let up = (0..<n).map { Float(cos(Double($0) * 0.11) * 3) }
    let dk = (0..<n).map { Float(sin(Double($0) * 0.05) + 0.3) }
    var dg = [Float](repeating: 0, count: n)
    var du = [Float](repeating: 0, count: n)
    kev_swiglu_backward(&dg, &du, dk, gate, up, n)
    for i in 0..<n {
      let g = Double(gate[i])
      let s = 1 / (1 + Foundation.exp(-g))
      let refG = Double(dk[i]) * Double(up[i]) * s * (1 + g * (1 - s))
      let refU = Double(dk[i]) * g * s
      let scaleG = abs(Double(dk[i]) * Double(up[i])) * s * (1 + abs(g) * (1 - s))
      #expect(abs(Double(dg[i]) - refG) <= 16 * eps * scaleG + 1e-30, "dgate \(i)")
      #expect(abs(Double(du[i]) - refU) <= 16 * eps * abs(refU) + 1e-30, "dup \(i)")
    }
  }

  @Test(arguments: KernelTests.levels) func rmsNormMatchesReference(level: Int) {
    use(level)
    defer { _ = kev_kernels_force_level(0) }
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

  /// LayerNorm against fp64: each output within 8 eps of |xhat g| + |b| (a few fp32 roundings
  /// after fp64 statistics), on columns with a large mean (where a one-pass variance would fail).
  @Test(arguments: KernelTests.levels) func layerNormMatchesReference(level: Int) {
    use(level)
    defer { _ = kev_kernels_force_level(0) }
    let d = 77, t = 5
    let x = Matrix<Float>(rows: d, columns: t) { i, j in Float(100 * Double(j) + sin(Double(i * 3 + j)) * Double(j + 1))
    }
    let g = (0..<d).map { Float(1 + 0.01 * Double($0)) }
    let b = (0..<d).map { Float(0.1 * cos(Double($0))) }
    let out = FastOps.layerNorm(x, g, b, eps: 1e-5)
    for j in 0..<t {
      let col = (0..<d).map { Double(x[$0, j]) }
      let mean = col.reduce(0, +) / Double(d)
      let v = col.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d)
      for i in 0..<d {
        let xhat = (col[i] - mean) / (v + 1e-5).squareRoot() * Double(g[i])
        let ref = xhat + Double(b[i])
        #expect(abs(Double(out[i, j]) - ref) <= 8 * eps * (abs(xhat) + abs(Double(b[i]))), "(\(i), \(j))")
      }
    }
  }

  /// GELU (tanh form) against fp64 over [-12, 12]: within 8 eps |x| (tanh from kev_exp loses
  /// at most a few ulp of 1, scaled by x / 2) - and exactly 0 / x far out.
  @Test(arguments: KernelTests.levels) func geluTanhMatchesReference(level: Int) {
    use(level)
    defer { _ = kev_kernels_force_level(0) }
    var x = stride(from: Float(-12), through: 12, by: 0.0137).map { $0 } + [-100, 100, 0]
    let ref = x.map { NormAndActivation.gelu(Double($0), exact: false).value }
    kev_gelu_tanh(&x, x.count)
    for i in 0..<x.count {
      let xi = i < ref.count - 3 ? Double(-12 + 0.0137 * Double(i)) : 100
      #expect(abs(Double(x[i]) - ref[i]) <= 8 * eps * abs(xi) + 1e-30, "entry \(i): \(x[i]) vs \(ref[i])")
    }
  }

  /// bfloat16 widening: all 65,536 bit patterns, each exact, with the 256 Inf/NaN patterns counted.
  @Test(arguments: KernelTests.levels) func bf16WideningIsExact(level: Int) {
    use(level)
    defer { _ = kev_kernels_force_level(0) }
    let src = (0..<65536).map { UInt16($0) }
    var dst = [Float](repeating: 0, count: src.count + 1)
    var bad = 0
    dst.withUnsafeMutableBufferPointer { d in
      src.withUnsafeBytes { s in
        // An odd address: the shards' data can start anywhere.
        var shifted = [UInt8](repeating: 0, count: s.count + 1)
        shifted.withUnsafeMutableBytes { m in
          m.baseAddress!.advanced(by: 1).copyMemory(from: s.baseAddress!, byteCount: s.count)
          kev_widen_bf16(d.baseAddress!, m.baseAddress!.advanced(by: 1), src.count, &bad)
        }
      }
    }
    let wrong = (0..<src.count).filter { dst[$0].bitPattern != UInt32(src[$0]) << 16 }.count
    #expect(wrong == 0 && bad == 256 && dst[src.count] == 0)
  }

  /// The table-driven RoPE against the rotation written out in fp64, at positions far from 0
  /// (the angles there are where fp32 would lose digits if computed in fp32).
  @Test(arguments: KernelTests.levels) func ropeMatchesReference(level: Int) {
    use(level)
    defer { _ = kev_kernels_force_level(0) }
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

  /// NEOX (half-split) RoPE against the generic Gemma rotation (fp64 angles per element) at
  /// positions up to 3000: within 4 eps of the pair's magnitude (the table's fp32 cos/sin and
  /// two products and a sum).
  @Test(arguments: KernelTests.levels) func ropeHalfSplitMatchesReference(level: Int) {
    use(level)
    defer { _ = kev_kernels_force_level(0) }
    let heads = 3, hd = 8, t = 3000
    let x = Matrix<Float>(rows: heads * hd, columns: t) { i, j in Float(sin(Double(i * 7 + j) * 0.13)) }
    var fast = x
    LlamaKernels.ropeHalfSplit(
      &fast, heads: heads, headDim: hd, table: LlamaKernels.RopeTable(positions: t, ropeDims: hd, base: 10_000))
    var ref = x.converted(to: Double.self)
    Gemma3Weights<Double>.ropeHalfSplit(&ref, heads: heads, headDim: hd, base: 10_000)
    var worst = 0.0
    for j in 0..<t {
      for h in 0..<heads {
        for i in 0..<(hd / 2) {
          let r = h * hd + i
          let mag = (Double(x[r, j]) * Double(x[r, j]) + Double(x[r + hd / 2, j]) * Double(x[r + hd / 2, j]))
            .squareRoot()
          worst = max(
            worst,
            (abs(Double(fast[r, j]) - ref[r, j]) + abs(Double(fast[r + hd / 2, j]) - ref[r + hd / 2, j]))
              / max(mag, 1e-30))
        }
      }
    }
    #expect(worst <= 8 * eps, "worst relative error \(worst)")
  }

  /// Causal grouped-query attention against a naive fp64 reference, at lengths that span
  /// several query blocks with a partial last one, several tasks per worker and the scratch of
  /// one pass reused by a second call. Bound per query j (u = eps32 / 2, nk = j + 1 keys):
  /// scores carry at most hd u S (S = scale * max_i sum_d |q_d k_id|), which moves each
  /// probability by at most 2 hd u S relative; the softmax kernel adds 8 eps (exp's 4 ulp and
  /// the normalising sum); the weighted sum of nk values adds nk u max|v|. So
  /// |out - ref| <= max|v| (4 hd u S + 8 eps + nk u), the factor 2 on the first term for the
  /// rounding of the reference's comparison.
  /// With a window (Gemma's sliding layers), query j sees keys j - window + 1 ... j only: the
  /// same bound with nk = the keys it sees, for windows shorter than a block, longer than one
  /// and of a single key.
  @Test(arguments: [
    (300, 16, Int.max), (300, 128, Int.max), (97, 128, Int.max), (1, 128, Int.max), (300, 16, 37), (300, 128, 100),
    (97, 128, 1), (300, 64, 200),
  ])
  func attentionMatchesNaiveReference(t: Int, block: Int, window: Int) {
    let heads = 6, kvHeads = 2, hd = 16
    let group = heads / kvHeads
    let u = eps / 2
    func inputs(_ seed: Double) -> (Matrix<Float>, Matrix<Float>, Matrix<Float>) {
      let q = Matrix<Float>(rows: heads * hd, columns: t) { i, j in Float(sin(Double(i * 13 + j * 7) * 0.31 + seed)) }
      let k = Matrix<Float>(rows: kvHeads * hd, columns: t) { i, j in Float(cos(Double(i * 5 + j * 11) * 0.17 + seed)) }
      let v = Matrix<Float>(rows: kvHeads * hd, columns: t) { i, j in Float(sin(Double(i * 3 + j) * 0.23 - seed) * 2) }
      return (q, k, v)
    }
    let scratch = LlamaKernels.AttentionScratch(tokens: t, group: group, headDim: hd, block: block)
    for seed in [0.0, 1.3] {
      let (q, k, v) = inputs(seed)
      var out = Matrix<Float>(rows: heads * hd, columns: t, repeating: .nan)
      LlamaKernels.attention(
        &out, q: q, k: k, v: v, heads: heads, kvHeads: kvHeads, headDim: hd, block: block, window: window,
        scratch: scratch)
      let scale = 1 / Double(hd).squareRoot()
      let maxV = v.storage.map { abs(Double($0)) }.max()!
      for h in 0..<heads {
        let g = h / group
        for j in 0..<t {
          let first = window >= j + 1 ? 0 : j - window + 1
          var scores = [Double](repeating: -Double.infinity, count: j + 1)
          var bigS = 0.0
          for i in first...j {
            var dot = 0.0, absDot = 0.0
            for d in 0..<hd {
              let p = Double(q[h * hd + d, j]) * Double(k[g * hd + d, i])
              dot += p
              absDot += abs(p)
            }
            scores[i] = dot * scale
            bigS = max(bigS, absDot * scale)
          }
          let m = scores.max()!
          let e = scores.map { Foundation.exp($0 - m) }
          let sum = e.reduce(0, +)
          let tol = maxV * (4 * Double(hd) * u * bigS + 8 * eps + Double(j + 1 - first) * u)
          for d in 0..<hd {
            var ref = 0.0
            for i in first...j { ref += e[i] / sum * Double(v[g * hd + d, i]) }
            let err = abs(Double(out[h * hd + d, j]) - ref)
            if !(err <= tol) {
              Issue.record("head \(h) query \(j) dim \(d): |\(out[h * hd + d, j]) - \(ref)| > \(tol) (seed \(seed))")
              return
            }
          }
        }
      }
    }
  }

  /// The dispatcher reports the CPU's best build unless told otherwise, and a forced level is
  /// lowered to what the CPU supports.
  @Test func dispatchFollowsTheCPU() {
    let top = kev_kernels_supported_level()
    #expect([1, 3, 4].contains(top))
    #expect(kev_kernels_force_level(99) == top)
    let name = String(cString: kev_kernels_isa())
    #expect(name.hasPrefix(top == 4 ? "x86-64-v4" : top == 3 ? "x86-64-v3" : "baseline"))
    #expect(kev_kernels_force_level(1) == 1 && String(cString: kev_kernels_isa()) == "baseline")
    #expect(kev_kernels_force_level(0) == top)
  }
}

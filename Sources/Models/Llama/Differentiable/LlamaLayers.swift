import CKernels
import Foundation
import Linalg

/// Forward/backward pairs of the Llama block's layers, generic over fp32/fp64, for gradients
/// (target vectors, finite-difference checks). Written for clarity on short sequences, not
/// speed: the fast fp32 forward pass is `LlamaModel.forward`, and tests check that the two
/// agree. Activations are column-major, one column per token. As in llm.c, outputs come
/// first and a `d` prefix names the gradient of a scalar loss with respect to a tensor.
public enum LlamaLayers {
  // MARK: linear

  /// y = Wᵀ x.     W: in x out (GGUF layout), x: in x T -> y: out x T
  @_specialize(exported:true,where T == Float)
  @_specialize(exported:true,where T == Double)
  public static func linearForward<T: LinalgScalar>(_ w: Matrix<T>, _ x: Matrix<T>) -> Matrix<T> {
    try! Matrix.multiply(w, x, transA: .transpose)
  }

  /// dx = W dy (in x T) is returned; dW += x dyᵀ (in x out) when `dW` is non-nil.
  @_specialize(exported:true,where T == Float)
  @_specialize(exported:true,where T == Double)
  public static func linearBackward<T: LinalgScalar>(
    dW: inout Matrix<T>?, dy: Matrix<T>, w: Matrix<T>, x: Matrix<T>
  ) -> Matrix<T> {
    if dW != nil { dW = dW! + (try! Matrix.multiply(x, dy, transB: .transpose)) }
    return w * dy
  }

  // MARK: RMSNorm

  /// out[:, t] = w ∘ x[:, t] r_t,  r_t = 1 / sqrt(mean(x[:, t]²) + eps).
  /// x: d x T, w: d -> (out: d x T, r: T). Sums of squares in fp64.
  @_specialize(exported:true,where T == Float)
  @_specialize(exported:true,where T == Double)
  public static func rmsNormForward<T: LinalgScalar>(_ x: Matrix<T>, _ w: [T], eps: Double) -> (
    out: Matrix<T>, r: [T]
  ) {
    let d = x.rows
    var out = x
    var r = [T](repeating: 0, count: x.columns)
    for t in 0..<x.columns {
      var ss = 0.0
      for i in 0..<d { ss += Double(x[i, t]) * Double(x[i, t]) }
      let inv = 1 / (ss / Double(d) + eps).squareRoot()
      r[t] = T(inv)
      for i in 0..<d { out[i, t] = T(Double(x[i, t]) * inv) * w[i] }
    }
    return (out, r)
  }

  /// With g = w ∘ dy: dx = r g - r³ (gᵀx / d) x per column (returned); dw += Σ_t dy ∘ x r_t.
  @_specialize(exported:true,where T == Float)
  @_specialize(exported:true,where T == Double)
  public static func rmsNormBackward<T: LinalgScalar>(
    dw: inout [T]?, dy: Matrix<T>, x: Matrix<T>, w: [T], r: [T]
  ) -> Matrix<T> {
    let d = x.rows
    var dx = Matrix<T>(rows: d, columns: x.columns)
    for t in 0..<x.columns {
      let rt = Double(r[t])
      var s = 0.0
      for i in 0..<d { s += Double(w[i]) * Double(dy[i, t]) * Double(x[i, t]) }
      let c = rt * rt * rt * s / Double(d)
      for i in 0..<d { dx[i, t] = T(rt * Double(w[i]) * Double(dy[i, t]) - c * Double(x[i, t])) }
      if dw != nil { for i in 0..<d { dw![i] += dy[i, t] * x[i, t] * r[t] } }
    }
    return dx
  }

  // MARK: packed sequences

  /// Several sequences side by side in one activation matrix (their columns concatenated):
  /// every per-token step runs on all of them at once, attention only within each sequence and
  /// positions restart at 0 in each.
  public struct Packing: Sendable, Equatable {
    /// The column ranges of the sequences, in order, covering `0..<columns`.
    public let segments: [Range<Int>]
    /// Per column: the first column of its sequence, and its position within it.
    public let starts: [Int]
    public let positions: [Int]

    public init(lengths: [Int]) {
      var segs: [Range<Int>] = []
      var starts: [Int] = []
      var positions: [Int] = []
      var at = 0
      for n in lengths {
        segs.append(at..<(at + n))
        starts += [Int](repeating: at, count: n)
        positions += Array(0..<n)
        at += n
      }
      segments = segs
      self.starts = starts
      self.positions = positions
    }
  }

  // MARK: RoPE

  /// GGUF's interleaved rotary embedding, in place: in each head, the pair (2i, 2i+1),
  /// i < ropeDims/2, of position p is rotated by p base^(-2i/ropeDims). The backward pass is
  /// the inverse rotation (`inverse: true`), since a rotation's transpose is its inverse.
  /// x: (heads*hd) x T
  @_specialize(exported:true,where T == Float)
  @_specialize(exported:true,where T == Double)
  public static func rope<T: LinalgScalar>(
    _ x: inout Matrix<T>, heads: Int, headDim: Int, ropeDims: Int, base: Double, inverse: Bool = false,
    frequencies: [Double]? = nil, packing: Packing? = nil
  ) {
    let half = ropeDims / 2
    let sign = inverse ? -1.0 : 1.0
    for t in 0..<x.columns {
      let position = packing?.positions[t] ?? t
      for i in 0..<half {
        let angle = Double(position) * (frequencies?[i] ?? pow(base, -2 * Double(i) / Double(ropeDims)))
        let c = cos(angle)
        let s = sign * sin(angle)
        for h in 0..<heads {
          let r = h * headDim + 2 * i
          let a = Double(x[r, t])
          let b = Double(x[r + 1, t])
          x[r, t] = T(a * c - b * s)
          x[r + 1, t] = T(a * s + b * c)
        }
      }
    }
  }

  // MARK: causal grouped-query attention

  /// For query head h (kv head g = h / (H/G)): S = K_gᵀ Q_h / sqrt(hd) (T x T, one column per
  /// query), masked to keys <= query, P = softmax down each column, out_h = V_g P.
  /// q: (H*hd) x T, k, v: (G*hd) x T -> (out: (H*hd) x T, probs: H matrices T x T)
  @_specialize(exported:true,where T == Float)
  @_specialize(exported:true,where T == Double)
  public static func attentionForward<T: LinalgScalar>(
    q: Matrix<T>, k: Matrix<T>, v: Matrix<T>, heads: Int, kvHeads: Int, headDim hd: Int, window: Int = Int.max,
    packing: Packing? = nil
  ) -> (out: Matrix<T>, probs: [Matrix<T>]) {
    let n = q.columns
    let group = heads / kvHeads
    let scale = 1 / Double(hd).squareRoot()
    // Heads in parallel (single-threaded BLAS each: their products are small).
    let perHead = concurrentMap(heads) { h -> (Matrix<T>, Matrix<T>) in
      let g = h / group
      let qh = q.submatrix(rows: h * hd..<(h + 1) * hd, columns: 0..<n)
      let kg = k.submatrix(rows: g * hd..<(g + 1) * hd, columns: 0..<n)
      let vg = v.submatrix(rows: g * hd..<(g + 1) * hd, columns: 0..<n)
      var p = try! Matrix.multiply(kg, qh, transA: .transpose, alpha: T(scale))
      for j in 0..<n {
        // Keys j - window + 1 ... j (all earlier ones when window = Int.max), within j's sequence.
        let first = max(window >= j + 1 ? 0 : j - window + 1, packing?.starts[j] ?? 0)
        var m = -Double.infinity
        for i in first...j { m = max(m, Double(p[i, j])) }
        var sum = 0.0
        var e = [Double](repeating: 0, count: j + 1)
        for i in first...j {
          e[i] = exp(Double(p[i, j]) - m)
          sum += e[i]
        }
        for i in 0..<n { p[i, j] = i <= j && i >= first ? T(e[i] / sum) : 0 }
      }
      return (vg * p, p)
    }
    var out = Matrix<T>(rows: heads * hd, columns: n)
    for (h, (oh, _)) in perHead.enumerated() {
      for j in 0..<n { for i in 0..<hd { out[h * hd + i, j] = oh[i, j] } }
    }
    return (out, perHead.map(\.1))
  }

  /// `body(i)` for `i < n` on every core, each with single-threaded BLAS; the results in index
  /// order (the same products as one after another, so the same values).
  static func concurrentMap<R>(_ n: Int, _ body: @Sendable (Int) -> R) -> [R] {
    guard n > 1 else { return (0..<n).map(body) }
    let slots = UnsafeMutablePointer<R?>.allocate(capacity: n)
    slots.initialize(repeating: nil, count: n)
    defer {
      slots.deinitialize(count: n)
      slots.deallocate()
    }
    let address = UInt(bitPattern: slots)
    BLASThreads.singleThreaded {
      DispatchQueue.concurrentPerform(iterations: n) { i in
        UnsafeMutablePointer<R?>(bitPattern: address)![i] = body(i)
      }
    }
    return (0..<n).map { slots[$0]! }
  }

  /// dV_g += dO_h Pᵀ; dP = V_gᵀ dO_h; dS = P ∘ (dP - 1 colsum(P ∘ dP)); dQ_h = K_g dS / sqrt(hd);
  /// dK_g += Q_h dSᵀ / sqrt(hd).   -> (dq: (H*hd) x T, dk, dv: (G*hd) x T)
  @_specialize(exported:true,where T == Float)
  @_specialize(exported:true,where T == Double)
  public static func attentionBackward<T: LinalgScalar>(
    dOut: Matrix<T>, q: Matrix<T>, k: Matrix<T>, v: Matrix<T>, probs: [Matrix<T>], heads: Int, kvHeads: Int,
    headDim hd: Int, window: Int = Int.max, packing: Packing? = nil
  ) -> (dq: Matrix<T>, dk: Matrix<T>, dv: Matrix<T>) {
    let n = q.columns
    let group = heads / kvHeads
    let scale = T(1 / Double(hd).squareRoot())
    let perHead = concurrentMap(heads) { h -> (Matrix<T>, Matrix<T>, Matrix<T>) in
      let g = h / group
      let rows = h * hd..<(h + 1) * hd
      let kvRows = g * hd..<(g + 1) * hd
      let qh = q.submatrix(rows: rows, columns: 0..<n)
      let kg = k.submatrix(rows: kvRows, columns: 0..<n)
      let vg = v.submatrix(rows: kvRows, columns: 0..<n)
      let doh = dOut.submatrix(rows: rows, columns: 0..<n)
      let p = probs[h]
      let dvg = try! Matrix.multiply(doh, p, transB: .transpose)
      var ds = try! Matrix.multiply(vg, doh, transA: .transpose)  // dP
      for j in 0..<n {
        let first = max(window >= j + 1 ? 0 : j - window + 1, packing?.starts[j] ?? 0)
        var dot = 0.0
        for i in first...j { dot += Double(p[i, j]) * Double(ds[i, j]) }
        for i in 0..<n { ds[i, j] = i <= j && i >= first ? T(Double(p[i, j]) * (Double(ds[i, j]) - dot)) : 0 }
      }
      return (
        try! Matrix.multiply(kg, ds, alpha: scale), try! Matrix.multiply(qh, ds, transB: .transpose, alpha: scale), dvg
      )
    }
    var dq = Matrix<T>(rows: q.rows, columns: n)
    var dk = Matrix<T>(rows: k.rows, columns: n)
    var dv = Matrix<T>(rows: v.rows, columns: n)
    // Accumulated in head order, as one after another.
    for (h, (dqh, dkg, dvg)) in perHead.enumerated() {
      let g = h / group
      for j in 0..<n {
        for i in 0..<hd {
          dq[h * hd + i, j] = dqh[i, j]
          dk[g * hd + i, j] += dkg[i, j]
          dv[g * hd + i, j] += dvg[i, j]
        }
      }
    }
    return (dq, dk, dv)
  }

  // MARK: SwiGLU

  /// keys = silu(gate) ∘ up, silu(x) = x σ(x).     gate, up: m x T -> keys: m x T
  @_specialize(exported:true,where T == Float)
  @_specialize(exported:true,where T == Double)
  public static func swigluForward<T: LinalgScalar>(gate: Matrix<T>, up: Matrix<T>) -> Matrix<T> {
    if T.self == Float.self, var out = up as? Matrix<Float>, let g = gate as? Matrix<Float> {
      // fp32: the forward pass's C kernel (its exp within 2 ulp); fp64 stays the reference.
      out.storage.withUnsafeMutableBufferPointer { o in
        g.storage.withUnsafeBufferPointer { kev_swiglu(o.baseAddress!, $0.baseAddress!, o.count) }
      }
      return out as! Matrix<T>
    }
    var out = up
    for i in 0..<out.storage.count {
      let g = Double(gate.storage[i])
      out.storage[i] = T(g / (1 + exp(-g)) * Double(up.storage[i]))
    }
    return out
  }

  /// dgate = dkeys ∘ up ∘ σ(g)(1 + g(1 - σ(g))), dup = dkeys ∘ silu(g).
  @_specialize(exported:true,where T == Float)
  @_specialize(exported:true,where T == Double)
  public static func swigluBackward<T: LinalgScalar>(dKeys: Matrix<T>, gate: Matrix<T>, up: Matrix<T>) -> (
    dGate: Matrix<T>, dUp: Matrix<T>
  ) {
    if T.self == Float.self, let dk = dKeys as? Matrix<Float>, let g = gate as? Matrix<Float>,
      let u = up as? Matrix<Float>
    {
      var dg = dk
      var du = dk
      dg.storage.withUnsafeMutableBufferPointer { dgp in
        du.storage.withUnsafeMutableBufferPointer { dup in
          dk.storage.withUnsafeBufferPointer { dkp in
            g.storage.withUnsafeBufferPointer { gp in
              u.storage.withUnsafeBufferPointer { upp in
                kev_swiglu_backward(
                  dgp.baseAddress!, dup.baseAddress!, dkp.baseAddress!, gp.baseAddress!, upp.baseAddress!, dgp.count)
              }
            }
          }
        }
      }
      return (dg as! Matrix<T>, du as! Matrix<T>)
    }
    var dg = dKeys
    var du = dKeys
    for i in 0..<dKeys.storage.count {
      let g = Double(gate.storage[i])
      let s = 1 / (1 + exp(-g))
      let dk = Double(dKeys.storage[i])
      dg.storage[i] = T(dk * Double(up.storage[i]) * s * (1 + g * (1 - s)))
      du.storage[i] = T(dk * g * s)
    }
    return (dg, du)
  }

  // MARK: log-softmax

  /// Log-probabilities of each column (fp64 internally).     logits: V x n -> V x n
  @_specialize(exported:true,where T == Float)
  @_specialize(exported:true,where T == Double)
  public static func logSoftmax<T: LinalgScalar>(_ logits: Matrix<T>) -> Matrix<Double> {
    var out = Matrix<Double>(rows: logits.rows, columns: logits.columns)
    for j in 0..<logits.columns {
      var m = -Double.infinity
      for i in 0..<logits.rows { m = max(m, Double(logits[i, j])) }
      var s = 0.0
      for i in 0..<logits.rows { s += exp(Double(logits[i, j]) - m) }
      let lse = m + log(s)
      for i in 0..<logits.rows { out[i, j] = Double(logits[i, j]) - lse }
    }
    return out
  }
}

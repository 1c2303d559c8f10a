import Foundation
import Linalg

/// The elementwise and attention kernels of the Llama block, on column-major activations
/// (one column per token). Each has a shape comment; naive reference versions used by the
/// tests live in the test target.
enum LlamaKernels {
  /// out[:, t] = x[:, t] / sqrt(mean(x[:, t]^2) + eps) * w     x, out: d x T; w: d
  /// (the mean of squares accumulated in fp64).
  static func rmsNorm(_ out: inout Matrix<Float>, _ x: Matrix<Float>, _ w: [Float], eps: Float) {
    let d = x.rows
    let t = x.columns
    x.storage.withUnsafeBufferPointer { xp in
      out.storage.withUnsafeMutableBufferPointer { op in
        for j in 0..<t {
          let col = xp.baseAddress! + j * d
          var ss = 0.0
          for i in 0..<d { ss += Double(col[i]) * Double(col[i]) }
          let inv = Float(1 / (ss / Double(d) + Double(eps)).squareRoot())
          let o = op.baseAddress! + j * d
          for i in 0..<d { o[i] = col[i] * inv * w[i] }
        }
      }
    }
  }

  /// Rotary position embedding in GGUF's interleaved layout: in every head of size `headDim`,
  /// the pair (2i, 2i+1), i < ropeDims/2, of the column for position p is rotated by
  /// p * base^(-2i/ropeDims).     x: (heads*headDim) x T, in place; positions start at `start`.
  static func rope(_ x: inout Matrix<Float>, heads: Int, headDim: Int, ropeDims: Int, base: Double, start: Int = 0) {
    let half = ropeDims / 2
    let freqs = (0..<half).map { pow(base, -2 * Double($0) / Double(ropeDims)) }
    let rows = x.rows
    x.storage.withUnsafeMutableBufferPointer { xp in
      for t in 0..<x.columns {
        let p = Double(start + t)
        let cs = freqs.map { (Float(cos(p * $0)), Float(sin(p * $0))) }
        let col = xp.baseAddress! + t * rows
        for h in 0..<heads {
          let hp = col + h * headDim
          for i in 0..<half {
            let (c, s) = cs[i]
            let a = hp[2 * i]
            let b = hp[2 * i + 1]
            hp[2 * i] = a * c - b * s
            hp[2 * i + 1] = a * s + b * c
          }
        }
      }
    }
  }

  /// Causal grouped-query attention.   q: (H*hd) x T, k, v: (G*hd) x T, out: (H*hd) x T.
  /// Head h reads key/value head h / (H/G). Scores S = Kᵀ Q / sqrt(hd) (T x T, one column per
  /// query), masked to keys <= query, softmax down each column (in fp32, max subtracted),
  /// out_h = V S.
  static func attention(
    _ out: inout Matrix<Float>, q: Matrix<Float>, k: Matrix<Float>, v: Matrix<Float>, heads: Int, kvHeads: Int,
    headDim hd: Int
  ) {
    let t = q.columns
    let group = heads / kvHeads
    let scale = 1 / Float(hd).squareRoot()
    var scores = [Float](repeating: 0, count: t * t)
    let qRows = q.rows
    let kRows = k.rows
    q.storage.withUnsafeBufferPointer { qp in
      k.storage.withUnsafeBufferPointer { kp in
        v.storage.withUnsafeBufferPointer { vp in
          out.storage.withUnsafeMutableBufferPointer { op in
            scores.withUnsafeMutableBufferPointer { sp in
              let s = sp.baseAddress!
              for h in 0..<heads {
                let g = h / group
                // S (keys x queries) = K_gᵀ Q_h * scale
                RawBLAS.gemm(
                  .transpose, .none, m: t, n: t, k: hd, alpha: scale, a: kp.baseAddress! + g * hd, lda: kRows,
                  b: qp.baseAddress! + h * hd, ldb: qRows, beta: 0, c: s, ldc: t)
                for j in 0..<t {
                  let col = s + j * t
                  var m = -Float.infinity
                  for i in 0...j { m = max(m, col[i]) }
                  var sum: Float = 0
                  for i in 0...j {
                    let e = exp(col[i] - m)
                    col[i] = e
                    sum += e
                  }
                  let inv = 1 / sum
                  for i in 0...j { col[i] *= inv }
                  for i in (j + 1)..<t { col[i] = 0 }
                }
                // out_h (hd x queries) = V_g (hd x keys) S
                RawBLAS.gemm(
                  .none, .none, m: hd, n: t, k: t, alpha: 1, a: vp.baseAddress! + g * hd, lda: kRows, b: s, ldb: t,
                  beta: 0, c: op.baseAddress! + h * hd, ldc: qRows)
              }
            }
          }
        }
      }
    }
  }

  /// out = silu(gate) * up = gate / (1 + exp(-gate)) * up     all mlpWidth x T.
  static func swiglu(_ gate: Matrix<Float>, _ up: Matrix<Float>) -> Matrix<Float> {
    var out = up
    gate.storage.withUnsafeBufferPointer { gp in
      out.storage.withUnsafeMutableBufferPointer { op in
        for i in 0..<op.count {
          let g = gp[i]
          op[i] *= g / (1 + exp(-g))
        }
      }
    }
    return out
  }

  /// y = Wᵀ-stored product: GGUF keeps a PyTorch (out, in) weight as the column-major
  /// in x out matrix `wt`; y (out x T) = wtᵀ x (in x T).
  static func linear(_ wt: Matrix<Float>, _ x: Matrix<Float>) -> Matrix<Float> {
    try! Matrix.multiply(wt, x, transA: .transpose)
  }
}

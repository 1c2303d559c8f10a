import Dispatch
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
  /// Head h reads key/value head h / (H/G). Scores S = Kᵀ Q / sqrt(hd) (one column per query),
  /// masked to keys <= query, softmax down each column (fp32, max subtracted), out_h = V S.
  /// Queries go in blocks of `block`: a block [j0, j1) only needs keys [0, j1), which halves
  /// the work of the two products against the full T x T square.
  static func attention(
    _ out: inout Matrix<Float>, q: Matrix<Float>, k: Matrix<Float>, v: Matrix<Float>, heads: Int, kvHeads: Int,
    headDim hd: Int, block: Int = 128
  ) {
    let t = q.columns
    let group = heads / kvHeads
    let scale = 1 / Float(hd).squareRoot()
    let qRows = q.rows
    let kRows = k.rows
    let blocks = (t + block - 1) / block
    // Tasks: (kv head, query block). The `group` query heads that share a kv head are stacked
    // side by side, so each product has group * block columns (BLAS runs k = hd = 64 products
    // far better with more columns); tasks run in parallel, each with a single-threaded BLAS.
    let tasks = kvHeads * blocks
    q.storage.withUnsafeBufferPointer { qp in
      k.storage.withUnsafeBufferPointer { kp in
        v.storage.withUnsafeBufferPointer { vp in
          out.storage.withUnsafeMutableBufferPointer { op in
            let qa = UInt(bitPattern: qp.baseAddress!)
            let ka = UInt(bitPattern: kp.baseAddress!)
            let va = UInt(bitPattern: vp.baseAddress!)
            let oa = UInt(bitPattern: op.baseAddress!)
            BLASThreads.singleThreaded {
              DispatchQueue.concurrentPerform(iterations: tasks) { task in
                let qb = UnsafePointer<Float>(bitPattern: qa)!
                let kb = UnsafePointer<Float>(bitPattern: ka)!
                let vb = UnsafePointer<Float>(bitPattern: va)!
                let ob = UnsafeMutablePointer<Float>(bitPattern: oa)!
                // Later query blocks are the larger tasks: hand them out first.
                let bi = blocks - 1 - task / kvHeads
                let g = task % kvHeads
                let j0 = bi * block
                let j1 = min(t, j0 + block)
                let nq = j1 - j0
                let nk = j1
                let cols = group * nq
                let qs = UnsafeMutablePointer<Float>.allocate(capacity: hd * cols)
                let s = UnsafeMutablePointer<Float>.allocate(capacity: nk * cols)
                let os = UnsafeMutablePointer<Float>.allocate(capacity: hd * cols)
                defer {
                  qs.deallocate()
                  s.deallocate()
                  os.deallocate()
                }
                // Stack Q of the group's heads: column c = (head r, query jj) -> c = r * nq + jj.
                for r in 0..<group {
                  let h = g * group + r
                  for jj in 0..<nq {
                    (qs + (r * nq + jj) * hd).update(from: qb + h * hd + (j0 + jj) * qRows, count: hd)
                  }
                }
                RawBLAS.gemm(
                  .transpose, .none, m: nk, n: cols, k: hd, alpha: scale, a: kb + g * hd, lda: kRows, b: qs, ldb: hd,
                  beta: 0, c: s, ldc: nk)
                for c in 0..<cols {
                  softmaxPrefix(s + c * nk, visible: j0 + c % nq + 1, length: nk)
                }
                RawBLAS.gemm(
                  .none, .none, m: hd, n: cols, k: nk, alpha: 1, a: vb + g * hd, lda: kRows, b: s, ldb: nk, beta: 0,
                  c: os, ldc: hd)
                for r in 0..<group {
                  let h = g * group + r
                  for jj in 0..<nq {
                    (ob + h * hd + (j0 + jj) * qRows).update(from: os + (r * nq + jj) * hd, count: hd)
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// In place: the first `visible` entries become their softmax (max subtracted), the rest of
  /// the `length` entries 0 (the causal mask).
  @inline(__always) static func softmaxPrefix(_ col: UnsafeMutablePointer<Float>, visible n: Int, length: Int) {
    typealias V = FastExp.V
    let raw = UnsafeMutableRawPointer(col)
    var mv = V(repeating: -.infinity)
    var i = 0
    while i + 8 <= n {
      mv = pointwiseMax(mv, raw.loadUnaligned(fromByteOffset: 4 * i, as: V.self))
      i += 8
    }
    var m = mv.max()
    while i < n {
      m = max(m, col[i])
      i += 1
    }
    let mb = V(repeating: m)
    var acc = V(repeating: 0)
    i = 0
    while i + 8 <= n {
      let e = FastExp.exp8(raw.loadUnaligned(fromByteOffset: 4 * i, as: V.self) - mb)
      raw.storeBytes(of: e, toByteOffset: 4 * i, as: V.self)
      acc += e
      i += 8
    }
    var sum = acc.sum()
    while i < n {
      let e = FastExp.exp1(col[i] - m)
      col[i] = e
      sum += e
      i += 1
    }
    let inv = 1 / sum
    let iv = V(repeating: inv)
    i = 0
    while i + 8 <= n {
      raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: 4 * i, as: V.self) * iv, toByteOffset: 4 * i, as: V.self)
      i += 8
    }
    while i < n {
      col[i] *= inv
      i += 1
    }
    if n < length { (col + n).update(repeating: 0, count: length - n) }
  }

  /// up = silu(gate) * up = gate / (1 + exp(-gate)) * up, in place (all mlpWidth x T; the
  /// kernel is memory-bound, so no copy of the product is made).
  static func swigluInPlace(_ out: inout Matrix<Float>, gate: Matrix<Float>) {
    let n = out.storage.count
    let workers = n >= 1 << 16 ? max(1, ProcessInfo.processInfo.activeProcessorCount) : 1
    gate.storage.withUnsafeBufferPointer { gp in
      out.storage.withUnsafeMutableBufferPointer { op in
        let ga = UInt(bitPattern: gp.baseAddress!)
        let oa = UInt(bitPattern: op.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
          let g = UnsafePointer<Float>(bitPattern: ga)!
          let o = UnsafeMutablePointer<Float>(bitPattern: oa)!
          let lo = n * w / workers
          let hi = n * (w + 1) / workers
          var i = lo
          while i + 8 <= hi {
            let x = UnsafeRawPointer(g + i).loadUnaligned(as: FastExp.V.self)
            let u = UnsafeRawPointer(o + i).loadUnaligned(as: FastExp.V.self)
            UnsafeMutableRawPointer(o + i).storeBytes(of: u * x / (1 + FastExp.exp8(-x)), as: FastExp.V.self)
            i += 8
          }
          while i < hi {
            let x = g[i]
            o[i] *= x / (1 + FastExp.exp1(-x))
            i += 1
          }
        }
      }
    }
  }

  /// y = Wᵀ-stored product: GGUF keeps a PyTorch (out, in) weight as the column-major
  /// in x out matrix `wt`; y (out x T) = wtᵀ x (in x T).
  static func linear(_ wt: Matrix<Float>, _ x: Matrix<Float>) -> Matrix<Float> {
    try! Matrix.multiply(wt, x, transA: .transpose)
  }
}

import CKernels
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
    precondition(out.rows == x.rows && out.columns == x.columns && w.count == x.rows)
    x.storage.withUnsafeBufferPointer { xp in
      out.storage.withUnsafeMutableBufferPointer { op in
        kev_rmsnorm(op.baseAddress!, xp.baseAddress!, w, x.rows, x.columns, eps)
      }
    }
  }

  /// The rotation angles of RoPE for positions start..<start+T: cos and sin of
  /// p * base^(-2i/ropeDims), i < ropeDims/2, one column of `half` per position (computed in
  /// fp64 once per forward pass and shared by every layer and by Q and K).
  struct RopeTable {
    let half: Int
    let cosines: [Float]
    let sines: [Float]
    init(positions t: Int, ropeDims: Int, base: Double, start: Int = 0, frequencies: [Double]? = nil) {
      half = ropeDims / 2
      let freqs = frequencies ?? (0..<half).map { pow(base, -2 * Double($0) / Double(ropeDims)) }
      var c = [Float](repeating: 0, count: half * t)
      var sn = [Float](repeating: 0, count: half * t)
      for j in 0..<t {
        let p = Double(start + j)
        for i in 0..<half {
          c[i + j * half] = Float(cos(p * freqs[i]))
          sn[i + j * half] = Float(sin(p * freqs[i]))
        }
      }
      cosines = c
      sines = sn
    }
  }

  /// Rotary position embedding in GGUF's interleaved layout: in every head of size `headDim`,
  /// the pair (2i, 2i+1), i < ropeDims/2, of the column for position p is rotated by
  /// p * base^(-2i/ropeDims).     x: (heads*headDim) x T, in place; positions start at `start`.
  static func rope(_ x: inout Matrix<Float>, heads: Int, headDim: Int, ropeDims: Int, base: Double, start: Int = 0) {
    rope(
      &x, heads: heads, headDim: headDim,
      table: RopeTable(positions: x.columns, ropeDims: ropeDims, base: base, start: start))
  }

  /// The same with precomputed angles (`table` covers at least x's T positions).
  static func rope(_ x: inout Matrix<Float>, heads: Int, headDim: Int, table: RopeTable) {
    precondition(table.cosines.count >= table.half * x.columns && 2 * table.half <= headDim)
    let rows = x.rows, t = x.columns
    x.storage.withUnsafeMutableBufferPointer { xp in
      kev_rope(xp.baseAddress!, rows, t, heads, headDim, table.half, table.cosines, table.sines)
    }
  }

  /// Rotary embedding in the NEOX (half-split) layout Gemma uses: in every head, the pair
  /// (i, i + half), i < half = table.half, is rotated by the table's angle for its position.
  ///     x: (heads*headDim) x T, in place
  static func ropeHalfSplit(_ x: inout Matrix<Float>, heads: Int, headDim: Int, table: RopeTable) {
    precondition(table.cosines.count >= table.half * x.columns && 2 * table.half <= headDim)
    let rows = x.rows, t = x.columns
    x.storage.withUnsafeMutableBufferPointer { xp in
      kev_rope_neox(xp.baseAddress!, rows, t, heads, headDim, table.half, table.cosines, table.sines)
    }
  }

  /// Per-worker scratch of ``attention(_:q:k:v:heads:kvHeads:headDim:block:scratch:)``,
  /// allocated once per forward pass and reused by every block and task (instead of a fresh
  /// multi-MB score buffer per task, which may cost page faults each time).
  final class AttentionScratch: @unchecked Sendable {
    let workers: Int
    let perWorker: Int
    let buffer: UnsafeMutablePointer<Float>
    init(tokens t: Int, group: Int, headDim hd: Int, block: Int = 128) {
      workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
      let cols = group * min(block, t)
      perWorker = 2 * hd * cols + t * cols
      buffer = .allocate(capacity: workers * perWorker)
    }
    deinit { buffer.deallocate() }
  }

  /// Causal grouped-query attention.   q: (H*hd) x T, k, v: (G*hd) x T, out: (H*hd) x T.
  /// Head h reads key/value head h / (H/G). Scores S = Kᵀ Q / sqrt(hd) (one column per query),
  /// masked to keys <= query, softmax down each column (fp32, max subtracted), out_h = V S.
  /// Queries go in blocks of `block`: a block [j0, j1) only needs keys [0, j1), which halves
  /// the work of the two products against the full T x T square.
  /// With `window` (Gemma's sliding layers) query j sees only keys `j - window + 1 ... j`, and
  /// a query block only computes the scores of the keys its queries can see.
  /// With a KV cache, `k` and `v` hold `offset` earlier positions before the queries' own:
  /// query j is position `offset + j` and sees keys up to it.
  static func attention(
    _ out: inout Matrix<Float>, q: Matrix<Float>, k: Matrix<Float>, v: Matrix<Float>, heads: Int, kvHeads: Int,
    headDim hd: Int, block: Int = 128, window: Int = Int.max, offset: Int = 0, scratch given: AttentionScratch? = nil
  ) {
    precondition(window >= 1 && offset >= 0 && k.columns == offset + q.columns && v.columns == k.columns)
    let t = q.columns
    let group = heads / kvHeads
    let scratch = given ?? AttentionScratch(tokens: k.columns, group: group, headDim: hd, block: block)
    precondition(scratch.perWorker >= 2 * hd * group * min(block, t) + k.columns * group * min(block, t))
    let scale = 1 / Float(hd).squareRoot()
    let qRows = q.rows
    let kRows = k.rows
    let blocks = (t + block - 1) / block
    // Tasks: (kv head, query block). The `group` query heads that share a kv head are stacked
    // side by side, so each product has group * block columns (BLAS runs k = hd = 64 products
    // far better with more columns). Each worker (one per core, single-threaded BLAS) takes
    // the next task from a shared counter, largest (latest query block) first.
    let tasks = kvHeads * blocks
    let counter = TaskCounter(count: tasks)
    q.storage.withUnsafeBufferPointer { qp in
      k.storage.withUnsafeBufferPointer { kp in
        v.storage.withUnsafeBufferPointer { vp in
          out.storage.withUnsafeMutableBufferPointer { op in
            let qa = UInt(bitPattern: qp.baseAddress!)
            let ka = UInt(bitPattern: kp.baseAddress!)
            let va = UInt(bitPattern: vp.baseAddress!)
            let oa = UInt(bitPattern: op.baseAddress!)
            BLASThreads.singleThreaded {
              DispatchQueue.concurrentPerform(iterations: scratch.workers) { worker in
                let qb = UnsafePointer<Float>(bitPattern: qa)!
                let kb = UnsafePointer<Float>(bitPattern: ka)!
                let vb = UnsafePointer<Float>(bitPattern: va)!
                let ob = UnsafeMutablePointer<Float>(bitPattern: oa)!
                let mine = scratch.buffer + worker * scratch.perWorker
                while let task = counter.next() {
                  let bi = blocks - 1 - task / kvHeads
                  let g = task % kvHeads
                  let j0 = bi * block
                  let j1 = min(t, j0 + block)
                  let nq = j1 - j0
                  // Keys kLo..<offset + j1: the earliest any query of the block sees.
                  let a0 = offset + j0
                  let kLo = window >= a0 + 1 ? 0 : a0 - window + 1
                  let nk = offset + j1 - kLo
                  let cols = group * nq
                  let qs = mine
                  let os = mine + hd * cols
                  let s = mine + 2 * hd * cols
                  // Stack Q of the group's heads: column c = (head r, query jj) -> c = r * nq + jj.
                  for r in 0..<group {
                    let h = g * group + r
                    for jj in 0..<nq {
                      (qs + (r * nq + jj) * hd).update(from: qb + h * hd + (j0 + jj) * qRows, count: hd)
                    }
                  }
                  RawBLAS.gemm(
                    .transpose, .none, m: nk, n: cols, k: hd, alpha: scale, a: kb + g * hd + kLo * kRows, lda: kRows,
                    b: qs, ldb: hd, beta: 0, c: s, ldc: nk)
                  for c in 0..<cols {
                    let j = offset + j0 + c % nq
                    // Local key indices first..<j - kLo + 1 are visible.
                    let first = window >= j + 1 ? 0 : j - window + 1 - kLo
                    let col = s + c * nk
                    softmaxPrefix(col + first, visible: j - kLo + 1 - first, length: nk - first)
                    if first > 0 { col.update(repeating: 0, count: first) }
                  }
                  RawBLAS.gemm(
                    .none, .none, m: hd, n: cols, k: nk, alpha: 1, a: vb + g * hd + kLo * kRows, lda: kRows, b: s,
                    ldb: nk, beta: 0, c: os, ldc: hd)
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
  }

  /// Hands out task indices 0..<count once each, to any number of threads.
  final class TaskCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private let count: Int
    init(count: Int) { self.count = count }
    func next() -> Int? {
      lock.lock()
      defer { lock.unlock() }
      guard nextIndex < count else { return nil }
      nextIndex += 1
      return nextIndex - 1
    }
  }

  /// In place: the first `visible` entries become their softmax (max subtracted), the rest of
  /// the `length` entries 0 (the causal mask).
  @inline(__always) static func softmaxPrefix(_ col: UnsafeMutablePointer<Float>, visible n: Int, length: Int) {
    kev_softmax_prefix(col, n, length)
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
          kev_swiglu(o + lo, g + lo, hi - lo)
        }
      }
    }
  }

  /// y = Wᵀ-stored product: GGUF keeps a PyTorch (out, in) weight as the column-major
  /// in x out matrix `wt`; into an existing `out` (out x T): `out = wtᵀ x` (x: in x T), or
  /// `out += wtᵀ x` when `accumulate` (BLAS beta = 1: the residual add happens inside the product).
  static func linear(into out: inout Matrix<Float>, _ wt: Matrix<Float>, _ x: Matrix<Float>, accumulate: Bool = false) {
    precondition(wt.rows == x.rows && out.rows == wt.columns && out.columns == x.columns, "linear: shape mismatch")
    wt.storage.withUnsafeBufferPointer { wp in
      x.storage.withUnsafeBufferPointer { xp in
        out.storage.withUnsafeMutableBufferPointer { op in
          RawBLAS.gemm(
            .transpose, .none, m: wt.columns, n: x.columns, k: wt.rows, alpha: Float(1), a: wp.baseAddress!,
            lda: wt.rows, b: xp.baseAddress!, ldb: x.rows, beta: accumulate ? 1 : 0, c: op.baseAddress!, ldc: out.rows)
        }
      }
    }
  }
}

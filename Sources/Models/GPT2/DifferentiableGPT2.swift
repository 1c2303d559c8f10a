import Foundation
import Linalg

/// GPT-2's forward/backward pairs, generic over fp32/fp64, for target vectors (gradients with
/// respect to the residual stream; the weights are fixed) and finite-difference checks. The
/// fast forward pass is ``GPT2Model/forward(_:capture:logits:profile:)``; tests check that the
/// two agree. Activations are `d x T`, one column per token; `d` prefixes a gradient.
public struct DifferentiableGPT2<T: LinalgScalar>: Sendable {
  public struct Block: Sendable {
    var ln1g: [T], ln1b: [T], ln2g: [T], ln2b: [T]
    var qkv: Matrix<T>, qkvB: [T], attnOut: Matrix<T>, attnOutB: [T]
    var fc: Matrix<T>, fcB: [T], proj: Matrix<T>, projB: [T]
  }
  /// What a block's backward pass needs from its forward pass.
  public struct Cache: Sendable {
    var xhat1: Matrix<T>, inv1: [Double], q: Matrix<T>, k: Matrix<T>, v: Matrix<T>, probs: [Matrix<T>]
    var xhat2: Matrix<T>, inv2: [Double], pre: Matrix<T>
    /// The block's keys (GELU output) and MLP output, bias included: what captures hand out.
    var keys: Matrix<T>, mlpOut: Matrix<T>
  }

  public let config: GPT2Config
  var blocks: [Block]
  let wte: Matrix<T>  // vocabulary x d
  let wpe: Matrix<T>  // positions x d
  let lnfG: [T], lnfB: [T]

  /// The loaded model's weights in `T` (all blocks must be loaded).
  init(config: GPT2Config, blocks: [Block], wte: Matrix<T>, wpe: Matrix<T>, lnfG: [T], lnfB: [T]) {
    self.config = config
    self.blocks = blocks
    self.wte = wte
    self.wpe = wpe
    self.lnfG = lnfG
    self.lnfB = lnfB
  }

  /// The loaded model's weights in `T` (all blocks must be loaded).
  public init(_ m: GPT2Model) throws {
    guard m.loadedBlocks == m.config.blockCount else {
      throw ModelError.notLoaded(layer: m.config.blockCount - 1, loaded: m.loadedBlocks)
    }
    func c(_ x: Matrix<Float>) -> Matrix<T> { x.converted(to: T.self) }
    func v(_ x: [Float]) -> [T] { x.map { T(Double($0)) } }
    let w = m.weights
    self.init(
      config: w.config,
      blocks: w.blocks.map {
        Block(
          ln1g: v($0.ln1g), ln1b: v($0.ln1b), ln2g: v($0.ln2g), ln2b: v($0.ln2b), qkv: c($0.qkv), qkvB: v($0.qkvB),
          attnOut: c($0.attnOut), attnOutB: v($0.attnOutB), fc: c($0.fc), fcB: v($0.fcB), proj: c($0.proj),
          projB: v($0.projB))
      }, wte: c(w.wte), wpe: c(w.wpe), lnfG: v(w.lnfG), lnfB: v(w.lnfB))
  }

  public func embed(_ tokens: [Int]) throws -> Matrix<T> {
    guard !tokens.isEmpty else { throw ModelError.emptyInput }
    guard tokens.count <= config.contextLength else {
      throw ModelError.contextTooLong(context: tokens.count, limit: config.contextLength)
    }
    for (i, t) in tokens.enumerated() where t < 0 || t >= config.vocabularySize {
      throw ModelError.tokenOutOfRange(index: i, token: t, vocabulary: config.vocabularySize)
    }
    return Matrix(rows: config.width, columns: tokens.count) { i, t in wte[tokens[t], i] + wpe[t, i] }
  }

  // MARK: layers

  func layerNorm(_ x: Matrix<T>, _ g: [T], _ b: [T]) -> (Matrix<T>, Matrix<T>, [Double]) {
    NormAndActivation.layerNorm(x, g, b, eps: config.epsilon)
  }

  func layerNormBackward(_ dy: Matrix<T>, _ xhat: Matrix<T>, _ inv: [Double], _ g: [T]) -> Matrix<T> {
    NormAndActivation.layerNormBackward(dy, xhat, inv, g)
  }

  static func affine(_ w: Matrix<T>, _ x: Matrix<T>, _ b: [T]) -> Matrix<T> { NormAndActivation.affine(w, x, b) }

  func gelu(_ x: Double) -> (value: Double, slope: Double) {
    NormAndActivation.gelu(x, exact: config.activation == "gelu")
  }

  // MARK: blocks

  public func blockForward(_ l: Int, _ x: Matrix<T>) -> (Matrix<T>, Cache) {
    let b = blocks[l]
    let d = config.width
    let n = x.columns
    let (a, xhat1, inv1) = layerNorm(x, b.ln1g, b.ln1b)
    let qkv = Self.affine(b.qkv, a, b.qkvB)
    let q = qkv.submatrix(rows: 0..<d, columns: 0..<n)
    let k = qkv.submatrix(rows: d..<(2 * d), columns: 0..<n)
    let v = qkv.submatrix(rows: (2 * d)..<(3 * d), columns: 0..<n)
    let (o, probs) = LlamaLayers.attentionForward(
      q: q, k: k, v: v, heads: config.heads, kvHeads: config.heads, headDim: d / config.heads)
    let x1 = x + Self.affine(b.attnOut, o, b.attnOutB)
    let (m, xhat2, inv2) = layerNorm(x1, b.ln2g, b.ln2b)
    let pre = Self.affine(b.fc, m, b.fcB)
    var f = pre
    for i in 0..<f.storage.count { f.storage[i] = T(gelu(Double(pre.storage[i])).value) }
    let mlpOut = Self.affine(b.proj, f, b.projB)
    return (
      x1 + mlpOut,
      Cache(
        xhat1: xhat1, inv1: inv1, q: q, k: k, v: v, probs: probs, xhat2: xhat2, inv2: inv2, pre: pre, keys: f,
        mlpOut: mlpOut)
    )
  }

  /// The gradient at the block's input from the gradient at its output.
  public func blockBackward(_ l: Int, _ c: Cache, _ dx2: Matrix<T>) -> Matrix<T> {
    let b = blocks[l]
    let d = config.width
    let n = dx2.columns
    var dPre = try! Matrix.multiply(b.proj, dx2, transA: .transpose)
    for i in 0..<dPre.storage.count { dPre.storage[i] *= T(gelu(Double(c.pre.storage[i])).slope) }
    let dm = try! Matrix.multiply(b.fc, dPre, transA: .transpose)
    let dx1 = dx2 + layerNormBackward(dm, c.xhat2, c.inv2, b.ln2g)
    let dO = try! Matrix.multiply(b.attnOut, dx1, transA: .transpose)
    let (dq, dk, dv) = LlamaLayers.attentionBackward(
      dOut: dO, q: c.q, k: c.k, v: c.v, probs: c.probs, heads: config.heads, kvHeads: config.heads,
      headDim: d / config.heads)
    var dqkv = Matrix<T>(rows: 3 * d, columns: n)
    for t in 0..<n {
      for i in 0..<d {
        dqkv[i, t] = dq[i, t]
        dqkv[d + i, t] = dk[i, t]
        dqkv[2 * d + i, t] = dv[i, t]
      }
    }
    let da = try! Matrix.multiply(b.qkv, dqkv, transA: .transpose)
    return dx1 + layerNormBackward(da, c.xhat1, c.inv1, b.ln1g)
  }

  public func forward(_ layers: Range<Int>, _ x: Matrix<T>) -> (Matrix<T>, [Cache]) {
    BlockLoop.forward(layers, x) { blockForward($0, $1) }
  }

  public func backward(_ layers: Range<Int>, _ caches: [Cache], _ dy: Matrix<T>) -> Matrix<T> {
    BlockLoop.backward(layers, caches, dy) { blockBackward($0, $1, $2) }
  }

  /// Logits at `positions` (`vocabulary x positions.count`) and the pullback to `x` (zero
  /// outside `positions`).
  public func head(_ x: Matrix<T>, positions: [Int]) -> (Matrix<T>, (Matrix<T>) -> Matrix<T>) {
    let sel = Matrix<T>(rows: x.rows, columns: positions.count) { i, j in x[i, positions[j]] }
    let (y, xhat, inv) = layerNorm(sel, lnfG, lnfB)
    let logits = wte * y
    return (
      logits,
      { dLogits in
        let dy = try! Matrix.multiply(self.wte, dLogits, transA: .transpose)
        let dsel = self.layerNormBackward(dy, xhat, inv, self.lnfG)
        var dx = Matrix<T>(rows: x.rows, columns: x.columns)
        for (j, p) in positions.enumerated() { for i in 0..<x.rows { dx[i, p] += dsel[i, j] } }
        return dx
      }
    )
  }
}

extension DifferentiableGPT2: ResidualStreamModel, BlockStack where T == Float {
  public var width: Int { config.width }
  public var blockCount: Int { config.blockCount }
}

extension DifferentiableGPT2 where T == Float {
  /// Block `l` without a cache, for forward passes that keep nothing (statistics, keys,
  /// logits): LayerNorm and GELU through the C kernels and the blocked attention kernel of
  /// the Llama path (no T x T probabilities kept), the products in BLAS as in
  /// ``blockForward(_:_:)``, which is its reference.     x: d x T -> (d x T, keys, MLP output)
  func fastBlockForward(_ l: Int, _ x: Matrix<Float>, scratch: LlamaKernels.AttentionScratch) -> (
    Matrix<Float>, keys: Matrix<Float>, mlpOut: Matrix<Float>
  ) {
    let b = blocks[l]
    let d = config.width
    let n = x.columns
    let a = FastOps.layerNorm(x, b.ln1g, b.ln1b, eps: config.epsilon)
    let qkv = FastOps.affine(b.qkv, a, b.qkvB)
    let q = qkv.submatrix(rows: 0..<d, columns: 0..<n)
    let k = qkv.submatrix(rows: d..<(2 * d), columns: 0..<n)
    let v = qkv.submatrix(rows: (2 * d)..<(3 * d), columns: 0..<n)
    var o = Matrix<Float>(rows: d, columns: n)
    LlamaKernels.attention(
      &o, q: q, k: k, v: v, heads: config.heads, kvHeads: config.heads, headDim: d / config.heads, scratch: scratch)
    let x1 = x + FastOps.affine(b.attnOut, o, b.attnOutB)
    var f = FastOps.affine(b.fc, FastOps.layerNorm(x1, b.ln2g, b.ln2b, eps: config.epsilon), b.fcB)
    FastOps.gelu(&f, exact: config.activation == "gelu")
    let mlpOut = FastOps.affine(b.proj, f, b.projB)
    return (x1 + mlpOut, f, mlpOut)
  }
}

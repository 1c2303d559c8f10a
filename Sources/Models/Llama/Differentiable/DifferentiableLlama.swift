import Foundation
import Linalg

/// What one block's forward pass keeps for its backward pass (all `rows x T`).
public struct BlockCache<T: LinalgScalar>: Sendable {
  public var x: Matrix<T>  // width: the block's input
  var h1: Matrix<T>  // width: rmsnorm(x)
  var r1: [T]
  var q: Matrix<T>  // heads*hd, after RoPE
  var k: Matrix<T>  // kvHeads*hd, after RoPE
  var v: Matrix<T>  // kvHeads*hd
  var probs: [Matrix<T>]  // heads x (T x T)
  var att: Matrix<T>  // heads*hd
  var xMid: Matrix<T>  // width: x + attention
  var h2: Matrix<T>  // width: rmsnorm(xMid)
  var r2: [T]
  var gate: Matrix<T>  // mlpWidth
  var up: Matrix<T>  // mlpWidth
  /// The MLP keys (input of `ffn_down`), mlpWidth x T.
  public var keys: Matrix<T>
  /// The sequences packed side by side, if several.
  var packing: LlamaLayers.Packing? = nil
}

/// What the output head keeps: the normalised columns at the positions whose logits were asked.
public struct HeadCache<T: LinalgScalar>: Sendable {
  var positions: [Int]
  var columns: Int
  var x: Matrix<T>  // width x positions.count
  var r: [T]
  var xf: Matrix<T>  // rmsnorm(x)
}

/// Gradients of the head's parameters (the output matrix is the embedding when tied).
public struct HeadGradients<T: LinalgScalar>: Sendable {
  public var outputNorm: [T]
  public var output: Matrix<T>
}

/// A Llama-architecture model with a backward pass, generic over fp32/fp64: the path for
/// gradients with respect to activations (target vectors) and parameters (finite-difference
/// tests). Built from a loaded `LlamaModel` (fp32, sharing its weights) or at random (tests).
public struct DifferentiableLlama<T: LinalgScalar>: Sendable {
  public let config: LlamaConfig
  /// width x vocabulary (column v is token v's vector).
  public var embedding: Matrix<T>
  /// width x vocabulary; nil when tied to the embedding.
  public var output: Matrix<T>?
  public var outputNorm: [T]
  /// The blocks when they are held here (random and test models; empty when `store` is set).
  public var blocks: [LlamaBlockWeights<T>]
  /// A loaded model's blocks, resident or streamed, shared with it.
  let store: BlockStore<LlamaBlockWeights<T>>?

  public init(
    config: LlamaConfig, embedding: Matrix<T>, output: Matrix<T>?, outputNorm: [T], blocks: [LlamaBlockWeights<T>]
  ) {
    self.config = config
    self.embedding = embedding
    self.output = output
    self.outputNorm = outputNorm
    self.blocks = blocks
    store = nil
  }

  init(
    config: LlamaConfig, embedding: Matrix<T>, output: Matrix<T>?, outputNorm: [T],
    store: BlockStore<LlamaBlockWeights<T>>
  ) {
    self.config = config
    self.embedding = embedding
    self.output = output
    self.outputNorm = outputNorm
    blocks = []
    self.store = store
  }

  /// Block `l`'s weights (from the shared store when there is one).
  public func block(_ l: Int) -> LlamaBlockWeights<T> { store?.block(l) ?? blocks[l] }

  /// The matrix the logits are computed with.
  public var outputMatrix: Matrix<T> { output ?? embedding }

  /// A random model (weights N(0, 1/in), norms 1 + N(0, 0.1²)), for tests.
  public static func random(config c: LlamaConfig, seed: UInt) -> DifferentiableLlama {
    let rng = GSLRandom(seed: seed)
    func m(_ r: Int, _ k: Int) -> Matrix<T> { rng.gaussianMatrix(r, k, sigma: 1 / Double(r).squareRoot()) }
    func norm(_ n: Int) -> [T] { (0..<n).map { _ in T(1 + rng.gaussian(sigma: 0.1)) } }
    let qw = c.headCount * c.headDim
    let kvw = c.kvHeadCount * c.headDim
    let blocks = (0..<c.blockCount).map { _ in
      LlamaBlockWeights<T>(
        attnNorm: norm(c.width), wq: m(c.width, qw), wk: m(c.width, kvw), wv: m(c.width, kvw), wo: m(qw, c.width),
        ffnNorm: norm(c.width), gate: m(c.width, c.mlpWidth), up: m(c.width, c.mlpWidth), down: m(c.mlpWidth, c.width))
    }
    return DifferentiableLlama(
      config: c, embedding: rng.gaussianMatrix(c.width, c.vocabularySize, sigma: 1),
      output: c.tiedOutput ? nil : m(c.width, c.vocabularySize), outputNorm: norm(c.width), blocks: blocks)
  }

  /// The same model in another precision.
  public func converted<U: LinalgScalar>(to: U.Type = U.self) -> DifferentiableLlama<U> {
    DifferentiableLlama<U>(
      config: config, embedding: embedding.converted(), output: output?.converted(),
      outputNorm: outputNorm.map { U($0) }, blocks: (0..<config.blockCount).map { block($0).converted() })
  }

  // MARK: forward

  /// Token vectors.     tokens: T -> width x T
  public func embed(_ tokens: [Int]) throws -> Matrix<T> {
    guard !tokens.isEmpty else { throw ModelError.emptyInput }
    for (i, t) in tokens.enumerated() where t < 0 || t >= config.vocabularySize {
      throw ModelError.tokenOutOfRange(index: i, token: t, vocabulary: config.vocabularySize)
    }
    var x = Matrix<T>(rows: config.width, columns: tokens.count)
    for (j, t) in tokens.enumerated() { for i in 0..<config.width { x[i, j] = embedding[i, t] } }
    return x
  }

  /// One block.     x: width x T -> (width x T, cache)
  public func blockForward(_ l: Int, _ x: Matrix<T>, packing: LlamaLayers.Packing? = nil) -> (Matrix<T>, BlockCache<T>)
  {
    let c = config
    let b = block(l)
    let (h1, r1) = LlamaLayers.rmsNormForward(x, b.attnNorm, eps: c.rmsEpsilon)
    var q = LlamaLayers.linearForward(b.wq, h1)
    var k = LlamaLayers.linearForward(b.wk, h1)
    var v = LlamaLayers.linearForward(b.wv, h1)
    LlamaBlockWeights<T>.addBias(&q, b.bq)
    LlamaBlockWeights<T>.addBias(&k, b.bk)
    LlamaBlockWeights<T>.addBias(&v, b.bv)
    let freqs = c.customRopeFrequencies
    LlamaLayers.rope(
      &q, heads: c.headCount, headDim: c.headDim, ropeDims: c.ropeDimensions, base: c.ropeBase, frequencies: freqs,
      packing: packing)
    LlamaLayers.rope(
      &k, heads: c.kvHeadCount, headDim: c.headDim, ropeDims: c.ropeDimensions, base: c.ropeBase, frequencies: freqs,
      packing: packing)
    let (att, probs) = LlamaLayers.attentionForward(
      q: q, k: k, v: v, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, packing: packing)
    let xMid = x + LlamaLayers.linearForward(b.wo, att)
    let (h2, r2) = LlamaLayers.rmsNormForward(xMid, b.ffnNorm, eps: c.rmsEpsilon)
    let gate = LlamaLayers.linearForward(b.gate, h2)
    let up = LlamaLayers.linearForward(b.up, h2)
    let keys = LlamaLayers.swigluForward(gate: gate, up: up)
    let out = xMid + LlamaLayers.linearForward(b.down, keys)
    return (
      out,
      BlockCache(
        x: x, h1: h1, r1: r1, q: q, k: k, v: v, probs: probs, att: att, xMid: xMid, h2: h2, r2: r2, gate: gate, up: up,
        keys: keys, packing: packing)
    )
  }

  /// Blocks `layers` in order.     x: width x T -> (width x T, one cache per block)
  public func forward(_ layers: Range<Int>, _ x: Matrix<T>, packing: LlamaLayers.Packing? = nil) -> (
    Matrix<T>, [BlockCache<T>]
  ) {
    var x = x
    var caches: [BlockCache<T>] = []
    for l in layers {
      let (y, cache) = blockForward(l, x, packing: packing)
      caches.append(cache)
      x = y
    }
    return (x, caches)
  }

  /// Final RMSNorm and logits at `positions`.     x: width x T -> (vocabulary x positions.count, cache)
  public func headForward(_ x: Matrix<T>, positions: [Int]) -> (Matrix<T>, HeadCache<T>) {
    var g = Matrix<T>(rows: config.width, columns: positions.count)
    for (k, j) in positions.enumerated() { for i in 0..<config.width { g[i, k] = x[i, j] } }
    let (xf, r) = LlamaLayers.rmsNormForward(g, outputNorm, eps: config.rmsEpsilon)
    let logits = LlamaLayers.linearForward(outputMatrix, xf)
    return (logits, HeadCache(positions: positions, columns: x.columns, x: g, r: r, xf: xf))
  }

  // MARK: backward

  /// One block's backward pass: returns dx (width x T); accumulates parameter gradients into
  /// `grads` when non-nil.
  public func blockBackward(
    _ l: Int, _ dOut: Matrix<T>, _ c: BlockCache<T>, grads: inout LlamaBlockWeights<T>?
  ) -> Matrix<T> {
    let cf = config
    let b = block(l)
    let want = grads != nil
    var gDown: Matrix<T>? = want ? grads!.down : nil
    let dKeys = LlamaLayers.linearBackward(dW: &gDown, dy: dOut, w: b.down, x: c.keys)
    let (dGate, dUp) = LlamaLayers.swigluBackward(dKeys: dKeys, gate: c.gate, up: c.up)
    var gGate: Matrix<T>? = want ? grads!.gate : nil
    var gUp: Matrix<T>? = want ? grads!.up : nil
    let dh2 =
      LlamaLayers.linearBackward(dW: &gGate, dy: dGate, w: b.gate, x: c.h2)
      + LlamaLayers.linearBackward(dW: &gUp, dy: dUp, w: b.up, x: c.h2)
    var gFfnNorm: [T]? = want ? grads!.ffnNorm : nil
    let dxMid = dOut + LlamaLayers.rmsNormBackward(dw: &gFfnNorm, dy: dh2, x: c.xMid, w: b.ffnNorm, r: c.r2)
    var gWo: Matrix<T>? = want ? grads!.wo : nil
    let dAtt = LlamaLayers.linearBackward(dW: &gWo, dy: dxMid, w: b.wo, x: c.att)
    var (dq, dk, dv) = LlamaLayers.attentionBackward(
      dOut: dAtt, q: c.q, k: c.k, v: c.v, probs: c.probs, heads: cf.headCount, kvHeads: cf.kvHeadCount,
      headDim: cf.headDim, packing: c.packing)
    let freqs = cf.customRopeFrequencies
    LlamaLayers.rope(
      &dq, heads: cf.headCount, headDim: cf.headDim, ropeDims: cf.ropeDimensions, base: cf.ropeBase, inverse: true,
      frequencies: freqs, packing: c.packing)
    LlamaLayers.rope(
      &dk, heads: cf.kvHeadCount, headDim: cf.headDim, ropeDims: cf.ropeDimensions, base: cf.ropeBase, inverse: true,
      frequencies: freqs, packing: c.packing)
    var gq: Matrix<T>? = want ? grads!.wq : nil
    var gk: Matrix<T>? = want ? grads!.wk : nil
    var gv: Matrix<T>? = want ? grads!.wv : nil
    let dh1 =
      LlamaLayers.linearBackward(dW: &gq, dy: dq, w: b.wq, x: c.h1)
      + LlamaLayers.linearBackward(dW: &gk, dy: dk, w: b.wk, x: c.h1)
      + LlamaLayers.linearBackward(dW: &gv, dy: dv, w: b.wv, x: c.h1)
    var gAttnNorm: [T]? = want ? grads!.attnNorm : nil
    let dx = dxMid + LlamaLayers.rmsNormBackward(dw: &gAttnNorm, dy: dh1, x: c.x, w: b.attnNorm, r: c.r1)
    if want {
      grads = LlamaBlockWeights(
        attnNorm: gAttnNorm!, wq: gq!, wk: gk!, wv: gv!, wo: gWo!, ffnNorm: gFfnNorm!, gate: gGate!, up: gUp!,
        down: gDown!)
    }
    return dx
  }

  /// Blocks `layers` backwards from dOut (the gradient at their output) to their input.
  /// `grads`, when non-nil, holds one accumulator per block of `layers`.
  public func backward(
    _ layers: Range<Int>, _ caches: [BlockCache<T>], _ dOut: Matrix<T>,
    grads: inout [LlamaBlockWeights<T>]?
  ) -> Matrix<T> {
    precondition(caches.count == layers.count)
    var d = dOut
    for (i, l) in layers.enumerated().reversed() {
      var g: LlamaBlockWeights<T>? = grads?[i]
      d = blockBackward(l, d, caches[i], grads: &g)
      if let g { grads![i] = g }
    }
    return d
  }

  /// The head's backward pass: dx (width x T, zero outside the cached positions) from
  /// dLogits (vocabulary x positions.count).
  public func headBackward(_ dLogits: Matrix<T>, _ c: HeadCache<T>, grads: inout HeadGradients<T>?) -> Matrix<T> {
    var gOut: Matrix<T>? = grads?.output
    let dxf = LlamaLayers.linearBackward(dW: &gOut, dy: dLogits, w: outputMatrix, x: c.xf)
    var gNorm: [T]? = grads?.outputNorm
    let dg = LlamaLayers.rmsNormBackward(dw: &gNorm, dy: dxf, x: c.x, w: outputNorm, r: c.r)
    if grads != nil { grads = HeadGradients(outputNorm: gNorm!, output: gOut!) }
    var dx = Matrix<T>(rows: config.width, columns: c.columns)
    for (k, j) in c.positions.enumerated() { for i in 0..<config.width { dx[i, j] += dg[i, k] } }
    return dx
  }

  /// Zero accumulators shaped like the blocks `layers` and the head.
  public func zeroGradients(_ layers: Range<Int>) -> ([LlamaBlockWeights<T>], HeadGradients<T>) {
    func z(_ m: Matrix<T>) -> Matrix<T> { Matrix(rows: m.rows, columns: m.columns) }
    let bs = layers.map { l -> LlamaBlockWeights<T> in
      let b = block(l)
      return LlamaBlockWeights(
        attnNorm: b.attnNorm.map { _ in 0 }, wq: z(b.wq), wk: z(b.wk), wv: z(b.wv), wo: z(b.wo),
        ffnNorm: b.ffnNorm.map { _ in 0 }, gate: z(b.gate), up: z(b.up), down: z(b.down))
    }
    return (bs, HeadGradients(outputNorm: outputNorm.map { _ in 0 }, output: z(outputMatrix)))
  }
}

extension DifferentiableLlama where T == Float {
  /// The fp32 weights of a loaded model (shared, not copied; streamed blocks stay streamed).
  /// Needs every block and the head.
  public init(_ model: LlamaModel) throws {
    guard model.loadedBlocks == model.config.blockCount, !model.outputNorm.isEmpty else {
      throw ModelError.notLoaded(layer: model.config.blockCount - 1, loaded: model.loadedBlocks)
    }
    self.init(
      config: model.config, embedding: model.embedding, output: model.output, outputNorm: model.outputNorm,
      store: model.store)
  }
}

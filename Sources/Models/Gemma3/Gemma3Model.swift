import CKernels
import Foundation
import Linalg

/// Gemma 3's hyperparameters from GGUF metadata (`gemma3.*`), checked against the tensors.
public struct Gemma3Config: Sendable, Equatable {
  public var name: String?
  public var width: Int
  public var blockCount: Int
  public var mlpWidth: Int
  public var heads: Int
  public var kvHeads: Int
  /// Per-head width of queries, keys and values (`attention.key_length`; 256, not d / heads).
  public var headDim: Int
  public var epsilon: Double
  /// RoPE base of the global layers (`rope.freq_base`) and of the sliding-window ones
  /// (10000 in every Gemma 3; GGUF does not store it, llama.cpp uses the same constant).
  public var globalRopeBase: Double
  public var localRopeBase: Double = 10_000
  /// Keys a sliding-window layer sees: the last `slidingWindow` positions, itself included.
  public var slidingWindow: Int
  /// Every `globalEvery`-th block (5, 11, 17 for 18 blocks) attends to all positions.
  public var globalEvery: Int = 6
  public var contextLength: Int
  public var vocabularySize: Int

  public func isGlobal(_ layer: Int) -> Bool { (layer + 1) % globalEvery == 0 }

  /// A configuration built in code (small random models for tests).
  public init(
    width: Int, blockCount: Int, mlpWidth: Int, heads: Int, kvHeads: Int, headDim: Int, vocabularySize: Int,
    slidingWindow: Int, globalEvery: Int = 6, epsilon: Double = 1e-6, globalRopeBase: Double = 1_000_000
  ) {
    self.width = width
    self.blockCount = blockCount
    self.mlpWidth = mlpWidth
    self.heads = heads
    self.kvHeads = kvHeads
    self.headDim = headDim
    self.vocabularySize = vocabularySize
    self.slidingWindow = slidingWindow
    self.globalEvery = globalEvery
    self.epsilon = epsilon
    self.globalRopeBase = globalRopeBase
    contextLength = 4096
  }

  public init(_ f: GGUFFile) throws(ModelFileError) {
    let a = "gemma3"
    name = f.metadata["general.name"]?.string
    width = try f.int("\(a).embedding_length")
    blockCount = try f.int("\(a).block_count")
    mlpWidth = try f.int("\(a).feed_forward_length")
    heads = try f.int("\(a).attention.head_count")
    kvHeads = f.metadata["\(a).attention.head_count_kv"]?.int ?? heads
    headDim = try f.int("\(a).attention.key_length")
    epsilon = try f.double("\(a).attention.layer_norm_rms_epsilon")
    globalRopeBase = f.metadata["\(a).rope.freq_base"]?.double ?? 1_000_000
    slidingWindow = f.metadata["\(a).attention.sliding_window"]?.int ?? 512
    contextLength = f.metadata["\(a).context_length"]?.int ?? 32768
    let embd = try f.requireTensor("token_embd.weight")
    vocabularySize = embd.shape.count == 2 ? embd.shape[1] : 0
    var p: [String] = []
    for (k, v) in [
      ("embedding_length", width), ("block_count", blockCount), ("feed_forward_length", mlpWidth),
      ("head_count", heads), ("head_count_kv", kvHeads), ("key_length", headDim), ("vocabulary", vocabularySize),
      ("sliding_window", slidingWindow),
    ] where v < 1 || v > 1 << 24 {
      p.append("\(k) = \(v) is not a plausible size")
    }
    if p.isEmpty {
      if heads % kvHeads != 0 { p.append("head_count \(heads) is not a multiple of head_count_kv \(kvHeads)") }
      if headDim % 2 != 0 { p.append("key_length \(headDim) must be even (RoPE rotates pairs)") }
      if let v = f.metadata["\(a).attention.value_length"]?.int, v != headDim {
        p.append("value_length \(v) differs from key_length \(headDim)")
      }
      if !(epsilon.isFinite && epsilon > 0) { p.append("layer_norm_rms_epsilon = \(epsilon) must be > 0") }
      if !(globalRopeBase.isFinite && globalRopeBase > 1) { p.append("rope.freq_base = \(globalRopeBase)") }
      let q = heads * headDim
      let kv = kvHeads * headDim
      var expected: [(String, [Int])] = [
        ("token_embd.weight", [width, vocabularySize]), ("output_norm.weight", [width]),
      ]
      for l in 0..<blockCount {
        let b = "blk.\(l)."
        expected += [
          (b + "attn_norm.weight", [width]), (b + "post_attention_norm.weight", [width]),
          (b + "ffn_norm.weight", [width]), (b + "post_ffw_norm.weight", [width]),
          (b + "attn_q_norm.weight", [headDim]), (b + "attn_k_norm.weight", [headDim]),
          (b + "attn_q.weight", [width, q]), (b + "attn_k.weight", [width, kv]), (b + "attn_v.weight", [width, kv]),
          (b + "attn_output.weight", [q, width]), (b + "ffn_gate.weight", [width, mlpWidth]),
          (b + "ffn_up.weight", [width, mlpWidth]), (b + "ffn_down.weight", [mlpWidth, width]),
        ]
      }
      for (n, shape) in expected {
        guard let t = f.tensor(n) else {
          p.append("tensor \(n) is missing")
          continue
        }
        if t.shape != shape { p.append("\(n) has shape \(t.shape), the metadata gives \(shape)") }
      }
      if f.tensor("output.weight") != nil { p.append("an untied output.weight: not supported") }
    }
    guard p.isEmpty else {
      throw .invalid(
        path: f.path, offset: 0, message: "inconsistent gemma3 hyperparameters: " + p.prefix(5).joined(separator: "; "))
    }
  }
}

/// Gemma 3's weights and forward/backward pairs, generic over fp32/fp64. Matrices in GGUF's
/// `in x out` layout (used as `Wᵀ x`, LlamaLayers.linearForward). A block:
/// `x += post_attention_norm(attn(attn_norm(x)))`, `x += post_ffw_norm(mlp(ffn_norm(x)))`;
/// queries and keys RMS-normalised per head before RoPE (half-split pairs, NEOX layout), base
/// by layer type; sliding-window layers see the last `slidingWindow` positions; GeGLU MLP
/// `down(gelu_tanh(gate x) ∘ up x)`; embedding scaled by `sqrt(d)`, tied head. The norm
/// weights are used as stored: llama.cpp's converter already added Gemma's `1 +`.
public struct Gemma3Weights<T: LinalgScalar>: Sendable {
  public struct Block: Sendable {
    var attnNorm: [T], postAttnNorm: [T], ffnNorm: [T], postFfnNorm: [T], qNorm: [T], kNorm: [T]
    var wq: Matrix<T>, wk: Matrix<T>, wv: Matrix<T>, wo: Matrix<T>
    var gate: Matrix<T>, up: Matrix<T>
    /// `ffn_down` as stored (`d_k x d`); the edited matrix `W0` is its transpose.
    var down: Matrix<T>
  }
  public struct Cache: Sendable {
    var x: Matrix<T>, r1: [T], a: Matrix<T>
    var qRaw: Matrix<T>, rq: [T], kRaw: Matrix<T>, rk: [T], q: Matrix<T>, k: Matrix<T>, v: Matrix<T>
    var probs: [Matrix<T>], o: Matrix<T>, y: Matrix<T>, ry: [T]
    var x1: Matrix<T>, r2: [T], m: Matrix<T>, g: Matrix<T>, u: Matrix<T>, keys: Matrix<T>, z: Matrix<T>, rz: [T]
  }

  public let config: Gemma3Config
  var blocks: [Block]
  /// Token embedding `d x vocabulary` (also the output head).
  let embedding: Matrix<T>
  let outputNorm: [T]

  /// A small random model for finite-difference tests.
  public static func random(config c: Gemma3Config, seed: UInt) -> Gemma3Weights {
    let rng = GSLRandom(seed: seed)
    func m(_ r: Int, _ k: Int) -> Matrix<T> { rng.gaussianMatrix(r, k, sigma: 1 / Double(r).squareRoot()) }
    func norm(_ n: Int) -> [T] { (0..<n).map { _ in T(1 + rng.gaussian(sigma: 0.1)) } }
    let q = c.heads * c.headDim
    let kv = c.kvHeads * c.headDim
    return Gemma3Weights(
      config: c,
      blocks: (0..<c.blockCount).map { _ in
        Block(
          attnNorm: norm(c.width), postAttnNorm: norm(c.width), ffnNorm: norm(c.width), postFfnNorm: norm(c.width),
          qNorm: norm(c.headDim), kNorm: norm(c.headDim), wq: m(c.width, q), wk: m(c.width, kv), wv: m(c.width, kv),
          wo: m(q, c.width), gate: m(c.width, c.mlpWidth), up: m(c.width, c.mlpWidth), down: m(c.mlpWidth, c.width))
      }, embedding: rng.gaussianMatrix(c.width, c.vocabularySize), outputNorm: norm(c.width))
  }

  public func converted<U: LinalgScalar>(to: U.Type = U.self) -> Gemma3Weights<U> {
    func c(_ m: Matrix<T>) -> Matrix<U> { m.converted(to: U.self) }
    func v(_ a: [T]) -> [U] { a.map { U(Double($0)) } }
    return Gemma3Weights<U>(
      config: config,
      blocks: blocks.map {
        Gemma3Weights<U>.Block(
          attnNorm: v($0.attnNorm), postAttnNorm: v($0.postAttnNorm), ffnNorm: v($0.ffnNorm),
          postFfnNorm: v($0.postFfnNorm), qNorm: v($0.qNorm), kNorm: v($0.kNorm), wq: c($0.wq), wk: c($0.wk),
          wv: c($0.wv), wo: c($0.wo), gate: c($0.gate), up: c($0.up), down: c($0.down))
      }, embedding: c(embedding), outputNorm: v(outputNorm))
  }

  public func embed(_ tokens: [Int]) throws -> Matrix<T> {
    guard !tokens.isEmpty else { throw ModelError.emptyInput }
    for (i, t) in tokens.enumerated() where t < 0 || t >= config.vocabularySize {
      throw ModelError.tokenOutOfRange(index: i, token: t, vocabulary: config.vocabularySize)
    }
    let scale = T(Double(Float(Double(config.width).squareRoot())))  // HF rounds sqrt(d) to the dtype
    return Matrix(rows: config.width, columns: tokens.count) { i, t in embedding[i, tokens[t]] * scale }
  }

  // MARK: layers

  /// RMSNorm of each `hd`-row head of `x` (`(heads*hd) x T`) with the shared weights `w`.
  func headNorm(_ x: Matrix<T>, heads: Int, _ w: [T]) -> (Matrix<T>, [T]) {
    let hd = config.headDim
    let n = x.columns
    let stacked = Matrix<T>(rows: hd, columns: heads * n) { i, j in x[(j % heads) * hd + i, j / heads] }
    let (out, r) = LlamaLayers.rmsNormForward(stacked, w, eps: config.epsilon)
    return (Matrix(rows: heads * hd, columns: n) { i, t in out[i % hd, t * heads + i / hd] }, r)
  }

  func headNormBackward(_ dy: Matrix<T>, x: Matrix<T>, heads: Int, _ w: [T], _ r: [T]) -> Matrix<T> {
    let hd = config.headDim
    let n = x.columns
    let sx = Matrix<T>(rows: hd, columns: heads * n) { i, j in x[(j % heads) * hd + i, j / heads] }
    let sd = Matrix<T>(rows: hd, columns: heads * n) { i, j in dy[(j % heads) * hd + i, j / heads] }
    var none: [T]? = nil
    let dx = LlamaLayers.rmsNormBackward(dw: &none, dy: sd, x: sx, w: w, r: r)
    return Matrix(rows: heads * hd, columns: n) { i, t in dx[i % hd, t * heads + i / hd] }
  }

  /// NEOX-layout rotary embedding in place: in each head, the pair (i, i + hd/2) of position p
  /// is rotated by p base^(-2i/hd); `inverse` rotates back (the backward pass).
  static func ropeHalfSplit(_ x: inout Matrix<T>, heads: Int, headDim hd: Int, base: Double, inverse: Bool = false) {
    let half = hd / 2
    let sign = inverse ? -1.0 : 1.0
    for t in 0..<x.columns {
      for i in 0..<half {
        let angle = Double(t) * pow(base, -2 * Double(i) / Double(hd))
        let c = cos(angle)
        let s = sign * sin(angle)
        for h in 0..<heads {
          let r = h * hd + i
          let a = Double(x[r, t])
          let b = Double(x[r + half, t])
          x[r, t] = T(a * c - b * s)
          x[r + half, t] = T(a * s + b * c)
        }
      }
    }
  }

  func geglu(_ g: Matrix<T>, _ u: Matrix<T>) -> Matrix<T> {
    var out = u
    for i in 0..<out.storage.count {
      out.storage[i] = T(NormAndActivation.gelu(Double(g.storage[i]), exact: false).value * Double(u.storage[i]))
    }
    return out
  }

  // MARK: blocks

  public func blockForward(_ l: Int, _ x: Matrix<T>) -> (Matrix<T>, Cache) {
    let b = blocks[l]
    let c = config
    let base = c.isGlobal(l) ? c.globalRopeBase : c.localRopeBase
    let window = c.isGlobal(l) ? Int.max : c.slidingWindow
    let (a, r1) = LlamaLayers.rmsNormForward(x, b.attnNorm, eps: c.epsilon)
    let qRaw = LlamaLayers.linearForward(b.wq, a)
    let kRaw = LlamaLayers.linearForward(b.wk, a)
    let v = LlamaLayers.linearForward(b.wv, a)
    var (q, rq) = headNorm(qRaw, heads: c.heads, b.qNorm)
    var (k, rk) = headNorm(kRaw, heads: c.kvHeads, b.kNorm)
    Self.ropeHalfSplit(&q, heads: c.heads, headDim: c.headDim, base: base)
    Self.ropeHalfSplit(&k, heads: c.kvHeads, headDim: c.headDim, base: base)
    let (o, probs) = LlamaLayers.attentionForward(
      q: q, k: k, v: v, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, window: window)
    let y = LlamaLayers.linearForward(b.wo, o)
    let (yn, ry) = LlamaLayers.rmsNormForward(y, b.postAttnNorm, eps: c.epsilon)
    let x1 = x + yn
    let (m, r2) = LlamaLayers.rmsNormForward(x1, b.ffnNorm, eps: c.epsilon)
    let g = LlamaLayers.linearForward(b.gate, m)
    let u = LlamaLayers.linearForward(b.up, m)
    let keys = geglu(g, u)
    let z = LlamaLayers.linearForward(b.down, keys)
    let (zn, rz) = LlamaLayers.rmsNormForward(z, b.postFfnNorm, eps: c.epsilon)
    return (
      x1 + zn,
      Cache(
        x: x, r1: r1, a: a, qRaw: qRaw, rq: rq, kRaw: kRaw, rk: rk, q: q, k: k, v: v, probs: probs, o: o, y: y, ry: ry,
        x1: x1, r2: r2, m: m, g: g, u: u, keys: keys, z: z, rz: rz)
    )
  }

  public func blockBackward(_ l: Int, _ ch: Cache, _ dx2: Matrix<T>) -> Matrix<T> {
    let b = blocks[l]
    let c = config
    var none: [T]? = nil
    var noW: Matrix<T>? = nil
    let base = c.isGlobal(l) ? c.globalRopeBase : c.localRopeBase
    let window = c.isGlobal(l) ? Int.max : c.slidingWindow
    let dz = LlamaLayers.rmsNormBackward(dw: &none, dy: dx2, x: ch.z, w: b.postFfnNorm, r: ch.rz)
    let dKeys = LlamaLayers.linearBackward(dW: &noW, dy: dz, w: b.down, x: ch.keys)
    var dg = dKeys
    var du = dKeys
    for i in 0..<dKeys.storage.count {
      let (gv, gs) = NormAndActivation.gelu(Double(ch.g.storage[i]), exact: false)
      dg.storage[i] = T(Double(dKeys.storage[i]) * Double(ch.u.storage[i]) * gs)
      du.storage[i] = T(Double(dKeys.storage[i]) * gv)
    }
    let dm =
      LlamaLayers.linearBackward(dW: &noW, dy: dg, w: b.gate, x: ch.m)
      + LlamaLayers.linearBackward(dW: &noW, dy: du, w: b.up, x: ch.m)
    let dx1 = dx2 + LlamaLayers.rmsNormBackward(dw: &none, dy: dm, x: ch.x1, w: b.ffnNorm, r: ch.r2)
    let dy = LlamaLayers.rmsNormBackward(dw: &none, dy: dx1, x: ch.y, w: b.postAttnNorm, r: ch.ry)
    let dO = LlamaLayers.linearBackward(dW: &noW, dy: dy, w: b.wo, x: ch.o)
    var (dq, dk, dv) = LlamaLayers.attentionBackward(
      dOut: dO, q: ch.q, k: ch.k, v: ch.v, probs: ch.probs, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim,
      window: window)
    Self.ropeHalfSplit(&dq, heads: c.heads, headDim: c.headDim, base: base, inverse: true)
    Self.ropeHalfSplit(&dk, heads: c.kvHeads, headDim: c.headDim, base: base, inverse: true)
    let dqRaw = headNormBackward(dq, x: ch.qRaw, heads: c.heads, b.qNorm, ch.rq)
    let dkRaw = headNormBackward(dk, x: ch.kRaw, heads: c.kvHeads, b.kNorm, ch.rk)
    let da =
      LlamaLayers.linearBackward(dW: &noW, dy: dqRaw, w: b.wq, x: ch.a)
      + LlamaLayers.linearBackward(dW: &noW, dy: dkRaw, w: b.wk, x: ch.a)
      + LlamaLayers.linearBackward(dW: &noW, dy: dv, w: b.wv, x: ch.a)
    return dx1 + LlamaLayers.rmsNormBackward(dw: &none, dy: da, x: ch.x, w: b.attnNorm, r: ch.r1)
  }

  public func forward(_ layers: Range<Int>, _ x: Matrix<T>) -> (Matrix<T>, [Cache]) {
    BlockLoop.forward(layers, x) { blockForward($0, $1) }
  }

  public func backward(_ layers: Range<Int>, _ caches: [Cache], _ dy: Matrix<T>) -> Matrix<T> {
    BlockLoop.backward(layers, caches, dy) { blockBackward($0, $1, $2) }
  }

  /// Logits at `positions` (tied head) and the pullback to `x` (zero outside `positions`).
  public func head(_ x: Matrix<T>, positions: [Int]) -> (Matrix<T>, (Matrix<T>) -> Matrix<T>) {
    let sel = Matrix<T>(rows: x.rows, columns: positions.count) { i, j in x[i, positions[j]] }
    let (y, r) = LlamaLayers.rmsNormForward(sel, outputNorm, eps: config.epsilon)
    let logits = LlamaLayers.linearForward(embedding, y)
    return (
      logits,
      { dLogits in
        var noW: Matrix<T>? = nil
        var none: [T]? = nil
        let dy = LlamaLayers.linearBackward(dW: &noW, dy: dLogits, w: self.embedding, x: y)
        let dsel = LlamaLayers.rmsNormBackward(dw: &none, dy: dy, x: sel, w: self.outputNorm, r: r)
        var dx = Matrix<T>(rows: x.rows, columns: x.columns)
        for (j, p) in positions.enumerated() { for i in 0..<x.rows { dx[i, p] += dsel[i, j] } }
        return dx
      }
    )
  }
}

/// Gemma 3 from its GGUF (Q4_K/Q5_0/Q6_K/Q8_0/F32 dequantised to fp32 at load), blocks after
/// the last capture not read.
public final class Gemma3Model: @unchecked Sendable {
  public let path: String
  public let tokenizer: BPETokenizer
  var weights: Gemma3Weights<Float>

  public init(file f: GGUFFile, upToLayer: Int? = nil, progress: (Int, Int) -> Void = { _, _ in }) throws {
    let c = try Gemma3Config(f)
    tokenizer = try BPETokenizer(f)
    guard tokenizer.vocabularySize == c.vocabularySize else {
      throw ModelFileError.invalid(
        path: f.path, offset: 0,
        message: "the tokenizer has \(tokenizer.vocabularySize) tokens, the embedding \(c.vocabularySize)")
    }
    path = f.path
    if let l = upToLayer, l < 0 || l >= c.blockCount {
      throw ModelError.layerOutOfRange(layer: l, blocks: c.blockCount)
    }
    let n = (upToLayer ?? c.blockCount - 1) + 1
    try LoadBudget.check(f.tensors.map { ($0.name, $0.elementCount) }, last: n - 1, what: f.path)
    var bs: [Gemma3Weights<Float>.Block] = []
    for l in 0..<n {
      let b = "blk.\(l)."
      func v(_ s: String) throws -> [Float] { try f.matrix(b + s).storage }
      bs.append(
        Gemma3Weights<Float>.Block(
          attnNorm: try v("attn_norm.weight"), postAttnNorm: try v("post_attention_norm.weight"),
          ffnNorm: try v("ffn_norm.weight"), postFfnNorm: try v("post_ffw_norm.weight"),
          qNorm: try v("attn_q_norm.weight"), kNorm: try v("attn_k_norm.weight"), wq: try f.matrix(b + "attn_q.weight"),
          wk: try f.matrix(b + "attn_k.weight"), wv: try f.matrix(b + "attn_v.weight"),
          wo: try f.matrix(b + "attn_output.weight"), gate: try f.matrix(b + "ffn_gate.weight"),
          up: try f.matrix(b + "ffn_up.weight"), down: try f.matrix(b + "ffn_down.weight")))
      progress(l + 1, n)
    }
    weights = Gemma3Weights(
      config: c, blocks: bs, embedding: try f.matrix("token_embd.weight"),
      outputNorm: try f.matrix("output_norm.weight").storage)
  }

  public var config: Gemma3Config { weights.config }
  public var loadedBlocks: Int { weights.blocks.count }
}

extension Gemma3Model: LanguageModel {
  public var architecture: String { "gemma3" }
  public var displayName: String? { config.name }
  public var width: Int { config.width }
  public var keyWidth: Int { config.mlpWidth }
  public var blockCount: Int { config.blockCount }
  public var contextLength: Int { config.contextLength }
  public var vocabularySize: Int { config.vocabularySize }
  public var editedWeightTemplate: String { "model.layers.{}.mlp.down_proj" }

  public func forward(_ tokens: [Int], capture: [Int: Set<Capture>], logits: LogitsMode, profile: ForwardProfile?)
    throws -> (logits: Matrix<Float>?, captures: [Int: [Capture: Matrix<Float>]])
  {
    let lastNeeded = try ForwardRequest.check(
      tokens, capture: capture, logits: logits, blocks: config.blockCount, loaded: loadedBlocks,
      context: config.contextLength, vocabulary: config.vocabularySize)
    let c = config
    let scratch = LlamaKernels.AttentionScratch(tokens: tokens.count, group: c.heads / c.kvHeads, headDim: c.headDim)
    let local = LlamaKernels.RopeTable(positions: tokens.count, ropeDims: c.headDim, base: c.localRopeBase)
    let global = LlamaKernels.RopeTable(positions: tokens.count, ropeDims: c.headDim, base: c.globalRopeBase)
    return ForwardRequest.run(
      tokens: tokens, capture: capture, logits: logits, lastNeeded: lastNeeded, embedded: try weights.embed(tokens)
    ) { l, x in
      weights.fastBlockForward(l, x, rope: c.isGlobal(l) ? global : local, scratch: scratch)
    } head: {
      weights.head($0, positions: $1).0
    }
  }

  /// `ffn_down` is stored `d_k x d`: handed out transposed (`d x d_k`).
  public func editedWeight(_ layer: Int) throws -> Matrix<Float> {
    guard layer >= 0 && layer < loadedBlocks else { throw ModelError.notLoaded(layer: layer, loaded: loadedBlocks) }
    return weights.blocks[layer].down.transposed
  }

  public func setEditedWeight(_ layer: Int, _ w: Matrix<Float>) throws {
    guard layer >= 0 && layer < loadedBlocks else { throw ModelError.notLoaded(layer: layer, loaded: loadedBlocks) }
    guard w.rows == config.width, w.columns == config.mlpWidth else {
      throw ModelFileError.shapeMismatch(
        tensor: "blk.\(layer).ffn_down.weight", expected: "\(config.width) x \(config.mlpWidth)",
        got: w.shapeDescription)
    }
    weights.blocks[layer].down = w.transposed
  }

  /// Gemma adds `n(u) = g ∘ u / rms(u)` (the post-FFW RMSNorm of the MLP output `u`) to the
  /// residual stream, not `u`. `n(u)` always has `rms(n(u) / g) = 1`, so a residual change `r`
  /// is reachable only up to that scale: the target `y = n(u) + r` is rescaled to
  /// `y / rms(y / g)` and the output that gives it is `u' = rms(u) · y / g` (any positive
  /// multiple of `y / g` does; this one keeps the output's scale). Coordinates whose gain is
  /// zero (or below 1e-6 of the largest) cannot be written at all: their change is dropped and
  /// their output kept.
  public func editedOutputTarget(layer: Int, current: Matrix<Double>, residualChange: Matrix<Double>) throws
    -> Matrix<Double>
  {
    guard layer >= 0 && layer < loadedBlocks else { throw ModelError.notLoaded(layer: layer, loaded: loadedBlocks) }
    let g = weights.blocks[layer].postFfnNorm.map(Double.init)
    let eps = config.epsilon
    let d = current.rows
    let floor = 1e-6 * (g.map(abs).max() ?? 0)
    let live = g.map { abs($0) > floor }
    var out = current
    for j in 0..<current.columns {
      var s = 0.0
      for i in 0..<d { s += current[i, j] * current[i, j] }
      let rmsU = (s / Double(d) + eps).squareRoot()
      // y / g for the writable coordinates; the others keep u / rms(u) (what n(u) / g is).
      var v = [Double](repeating: 0, count: d)
      var t = 0.0
      for i in 0..<d {
        v[i] = live[i] ? (g[i] * current[i, j] / rmsU + residualChange[i, j]) / g[i] : current[i, j] / rmsU
        t += v[i] * v[i]
      }
      let rmsV = (t / Double(d)).squareRoot()
      for i in 0..<d { out[i, j] = rmsU * v[i] / rmsV }
    }
    return out
  }

  /// Saves a GGUF next to the source's layout: `blk.L.ffn_down.weight` of the edited layers in
  /// F32 (`d_k x d` as GGUF stores it), every other tensor copied as stored (quantised).
  public func save(to path: String, editedLayers: [Int]) throws {
    var rep: [String: [Float]] = [:]
    for l in editedLayers {
      guard l >= 0 && l < loadedBlocks else { throw ModelError.notLoaded(layer: l, loaded: loadedBlocks) }
      rep["blk.\(l).ffn_down.weight"] = weights.blocks[l].down.storage
    }
    try GGUFWriter.write(source: try GGUFFile(path: self.path), replacing: rep, to: path)
  }

  public func residualStreamModel() throws -> ResidualStreamModel {
    guard loadedBlocks == config.blockCount else {
      throw ModelError.notLoaded(layer: config.blockCount - 1, loaded: loadedBlocks)
    }
    return weights
  }
}

extension Gemma3Weights {
  /// `u = W_down keys` of block `layer` before the post-FFW RMSNorm (`d x T`), and the
  /// residual after the block as `x1 + RMSNorm(u) (1 + w)` with its pullback: what the edited
  /// matrix can write is a change of `u`, whose normalised image has a fixed size.
  func outputSite(after layer: Int, tokens: [Int]) throws -> (
    output: Matrix<T>, residual: (Matrix<T>) -> (Matrix<T>, (Matrix<T>) -> Matrix<T>)
  ) {
    guard layer >= 0 && layer < config.blockCount else {
      throw ModelError.layerOutOfRange(layer: layer, blocks: config.blockCount)
    }
    let x = forward(0..<layer, try embed(tokens)).0
    let (_, cache) = blockForward(layer, x)
    let x1 = cache.x1
    let g = blocks[layer].postFfnNorm
    let eps = config.epsilon
    return (
      cache.z,
      { u in
        let (n, r) = LlamaLayers.rmsNormForward(u, g, eps: eps)
        return (
          x1 + n,
          { dy in
            var none: [T]? = nil
            return LlamaLayers.rmsNormBackward(dw: &none, dy: dy, x: u, w: g, r: r)
          }
        )
      }
    )
  }
}

extension Gemma3Weights: ResidualStreamModel, BlockStack where T == Float {
  public var width: Int { config.width }
  public var blockCount: Int { config.blockCount }

  public func editedOutputSite(after layer: Int, tokens: [Int]) throws -> EditedOutputSite? {
    let (u, residual) = try outputSite(after: layer, tokens: tokens)
    return EditedOutputSite(output: u, residual: residual)
  }
}

extension Gemma3Weights where T == Float {
  /// Block `l` without a cache (statistics, keys, logits): RMSNorm (also per head for q/k),
  /// NEOX RoPE and the blocked attention kernel with the layer's window, tanh-GELU in C, BLAS
  /// products; ``blockForward(_:_:)`` is its reference.     x: d x T -> (d x T, keys, W k)
  func fastBlockForward(
    _ l: Int, _ x: Matrix<Float>, rope table: LlamaKernels.RopeTable, scratch: LlamaKernels.AttentionScratch
  ) -> (Matrix<Float>, keys: Matrix<Float>, mlpOut: Matrix<Float>) {
    let b = blocks[l]
    let c = config
    let n = x.columns
    let eps = Float(c.epsilon)
    func norm(_ v: Matrix<Float>, _ w: [Float]) -> Matrix<Float> {
      var out = Matrix<Float>(rows: v.rows, columns: v.columns)
      LlamaKernels.rmsNorm(&out, v, w, eps: eps)
      return out
    }
    /// Each head's `hd` rows of a column are contiguous: an `hd x (heads T)` RMSNorm in place.
    func headNorm(_ v: inout Matrix<Float>, _ w: [Float]) {
      let hd = c.headDim
      v.storage.withUnsafeMutableBufferPointer { p in
        kev_rmsnorm(p.baseAddress!, p.baseAddress!, w, hd, p.count / hd, eps)
      }
    }
    func linear(_ w: Matrix<Float>, _ v: Matrix<Float>) -> Matrix<Float> {
      var out = Matrix<Float>(rows: w.columns, columns: v.columns)
      LlamaKernels.linear(into: &out, w, v)
      return out
    }
    let a = norm(x, b.attnNorm)
    var q = linear(b.wq, a)
    var k = linear(b.wk, a)
    let v = linear(b.wv, a)
    headNorm(&q, b.qNorm)
    headNorm(&k, b.kNorm)
    LlamaKernels.ropeHalfSplit(&q, heads: c.heads, headDim: c.headDim, table: table)
    LlamaKernels.ropeHalfSplit(&k, heads: c.kvHeads, headDim: c.headDim, table: table)
    var o = Matrix<Float>(rows: c.heads * c.headDim, columns: n)
    LlamaKernels.attention(
      &o, q: q, k: k, v: v, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim,
      window: c.isGlobal(l) ? Int.max : c.slidingWindow, scratch: scratch)
    let x1 = x + norm(linear(b.wo, o), b.postAttnNorm)
    let m = norm(x1, b.ffnNorm)
    var g = linear(b.gate, m)
    var keys = linear(b.up, m)
    FastOps.gelu(&g, exact: false)
    keys.storage.withUnsafeMutableBufferPointer { kp in
      g.storage.withUnsafeBufferPointer { gp in
        for i in 0..<kp.count { kp[i] *= gp[i] }
      }
    }
    let z = linear(b.down, keys)
    return (x1 + norm(z, b.postFfnNorm), keys, z)
  }
}

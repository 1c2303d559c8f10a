import Foundation
import Linalg

/// GPT-J's hyperparameters from `config.json`, checked against each other.
public struct GPTJConfig: Sendable, Equatable {
  public var width: Int
  public var heads: Int
  public var blockCount: Int
  public var contextLength: Int
  public var vocabularySize: Int
  public var mlpWidth: Int
  /// Rotary embedding on the first `rotaryDim` dimensions of each head (interleaved pairs).
  public var rotaryDim: Int
  public var epsilon: Double
  public var activation: String
  public var name: String?

  public var headDim: Int { width / heads }

  public init(_ c: HFCheckpoint) throws(ModelFileError) {
    width = try c.int("n_embd")
    heads = try c.int("n_head")
    blockCount = try c.int("n_layer")
    contextLength = try c.int("n_positions")
    vocabularySize = try c.int("vocab_size")
    mlpWidth = (c.config["n_inner"] as? Int) ?? 4 * width
    epsilon = (c.config["layer_norm_epsilon"] as? Double) ?? 1e-5
    activation = (c.config["activation_function"] as? String) ?? "gelu_new"
    name = c.config["_name_or_path"] as? String
    func bad(_ m: String) -> ModelFileError { .invalid(path: c.path + "/config.json", offset: 0, message: m) }
    for (k, v) in [
      ("n_embd", width), ("n_head", heads), ("n_layer", blockCount), ("n_positions", contextLength),
      ("vocab_size", vocabularySize), ("n_inner", mlpWidth),
    ] where v < 1 || v > 1 << 24 {
      throw bad("\(k) = \(v) is not a plausible size")
    }
    guard width % heads == 0 else { throw bad("n_embd = \(width) is not divisible by n_head = \(heads)") }
    rotaryDim = (c.config["rotary_dim"] as? Int) ?? width / heads
    guard rotaryDim >= 0, rotaryDim % 2 == 0, rotaryDim <= width / heads else {
      throw bad("rotary_dim = \(rotaryDim) must be even and at most the head size \(width / heads)")
    }
    guard epsilon > 0, epsilon.isFinite else { throw bad("layer_norm_epsilon = \(epsilon) must be finite and > 0") }
    guard GPT2Config.supportedActivations.contains(activation) else {
      throw bad("activation_function '\(activation)' is not supported")
    }
    if (c.config["tie_word_embeddings"] as? Bool) == true {
      throw bad("tie_word_embeddings = true: GPT-J with a tied head is not supported")
    }
  }
}

/// GPT-J's weights and its forward/backward pairs, generic over fp32/fp64 (matrices `in x out`:
/// HF's row-major `(out, in)` as it lies, used as `Wᵀ x`, so that blocks stream from the file
/// with no transpose). A block reads one LayerNorm and adds attention and
/// MLP in parallel: `x + attn(ln(x)) + mlp(ln(x))`; q/k/v/out without biases, rotary on the
/// first `rotaryDim` dimensions of each head in the interleaved layout (LlamaLayers.rope),
/// `fc_in`/`fc_out` with biases, untied head with a bias.
public struct GPTJWeights<T: LinalgScalar>: Sendable {
  public struct Block: Sendable {
    var lng: [T], lnb: [T]
    var wq: Matrix<T>, wk: Matrix<T>, wv: Matrix<T>, wo: Matrix<T>
    var fcIn: Matrix<T>, fcInB: [T]
    /// `mlp.fc_out`, `d_k x d` (`in x out`): the edited matrix `W0` is its transpose.
    var fcOut: Matrix<T>, fcOutB: [T]
  }
  public struct Cache: Sendable {
    var xhat: Matrix<T>, inv: [Double], q: Matrix<T>, k: Matrix<T>, v: Matrix<T>, probs: [Matrix<T>], pre: Matrix<T>
  }

  public let config: GPTJConfig
  /// The blocks when they are held here (empty when `store` is set).
  var blocks: [Block]
  let wte: Matrix<T>  // vocabulary x d
  let lnfG: [T], lnfB: [T]
  let lmHead: Matrix<T>?, lmBias: [T]
  /// A loaded model's blocks, resident or streamed.
  var store: BlockStore<Block>? = nil

  /// Block `l` (from the store when there is one).
  func block(_ l: Int) -> Block { store?.block(l) ?? blocks[l] }

  func gelu(_ x: Double) -> (value: Double, slope: Double) {
    NormAndActivation.gelu(x, exact: config.activation == "gelu")
  }

  public func embed(_ tokens: [Int]) throws -> Matrix<T> {
    guard !tokens.isEmpty else { throw ModelError.emptyInput }
    guard tokens.count <= config.contextLength else {
      throw ModelError.contextTooLong(context: tokens.count, limit: config.contextLength)
    }
    for (i, t) in tokens.enumerated() where t < 0 || t >= config.vocabularySize {
      throw ModelError.tokenOutOfRange(index: i, token: t, vocabulary: config.vocabularySize)
    }
    return Matrix(rows: config.width, columns: tokens.count) { i, t in wte[tokens[t], i] }
  }

  /// -> (output, keys, MLP output, cache)
  public func blockForward(_ l: Int, _ x: Matrix<T>) -> (Matrix<T>, Matrix<T>, Matrix<T>, Cache) {
    let b = block(l)
    let c = config
    let (h, xhat, inv) = NormAndActivation.layerNorm(x, b.lng, b.lnb, eps: c.epsilon)
    var q = LlamaLayers.linearForward(b.wq, h)
    var k = LlamaLayers.linearForward(b.wk, h)
    let v = LlamaLayers.linearForward(b.wv, h)
    LlamaLayers.rope(&q, heads: c.heads, headDim: c.headDim, ropeDims: c.rotaryDim, base: 10_000)
    LlamaLayers.rope(&k, heads: c.heads, headDim: c.headDim, ropeDims: c.rotaryDim, base: 10_000)
    let (o, probs) = LlamaLayers.attentionForward(
      q: q, k: k, v: v, heads: c.heads, kvHeads: c.heads, headDim: c.headDim)
    var pre = LlamaLayers.linearForward(b.fcIn, h)
    LlamaBlockWeights<T>.addBias(&pre, b.fcInB)
    var f = pre
    for i in 0..<f.storage.count { f.storage[i] = T(gelu(Double(pre.storage[i])).value) }
    var m = LlamaLayers.linearForward(b.fcOut, f)
    LlamaBlockWeights<T>.addBias(&m, b.fcOutB)
    let y = x + LlamaLayers.linearForward(b.wo, o) + m
    return (y, f, m, Cache(xhat: xhat, inv: inv, q: q, k: k, v: v, probs: probs, pre: pre))
  }

  public func blockBackward(_ l: Int, _ cache: Cache, _ dy: Matrix<T>) -> Matrix<T> {
    let b = block(l)
    let c = config
    var dPre = b.fcOut * dy
    for i in 0..<dPre.storage.count { dPre.storage[i] *= T(gelu(Double(cache.pre.storage[i])).slope) }
    var dh = b.fcIn * dPre
    let dO = b.wo * dy
    var (dq, dk, dv) = LlamaLayers.attentionBackward(
      dOut: dO, q: cache.q, k: cache.k, v: cache.v, probs: cache.probs, heads: c.heads, kvHeads: c.heads,
      headDim: c.headDim)
    LlamaLayers.rope(&dq, heads: c.heads, headDim: c.headDim, ropeDims: c.rotaryDim, base: 10_000, inverse: true)
    LlamaLayers.rope(&dk, heads: c.heads, headDim: c.headDim, ropeDims: c.rotaryDim, base: 10_000, inverse: true)
    dh = dh + b.wq * dq + b.wk * dk + b.wv * dv
    return dy + NormAndActivation.layerNormBackward(dh, cache.xhat, cache.inv, b.lng)
  }

  public func forward(_ layers: Range<Int>, _ x: Matrix<T>) -> (Matrix<T>, [Cache]) {
    BlockLoop.forward(layers, x) { l, h in
      let (y, _, _, c) = blockForward(l, h)
      return (y, c)
    }
  }

  public func backward(_ layers: Range<Int>, _ caches: [Cache], _ dy: Matrix<T>) -> Matrix<T> {
    BlockLoop.backward(layers, caches, dy) { blockBackward($0, $1, $2) }
  }

  /// Logits at `positions` and the pullback to `x` (zero outside `positions`).
  public func head(_ x: Matrix<T>, positions: [Int]) -> (Matrix<T>, (Matrix<T>) -> Matrix<T>) {
    let w = lmHead!
    let sel = Matrix<T>(rows: x.rows, columns: positions.count) { i, j in x[i, positions[j]] }
    let (y, xhat, inv) = NormAndActivation.layerNorm(sel, lnfG, lnfB, eps: config.epsilon)
    let logits = NormAndActivation.affine(w, y, lmBias)
    return (
      logits,
      { dLogits in
        let dy = try! Matrix.multiply(w, dLogits, transA: .transpose)
        let dsel = NormAndActivation.layerNormBackward(dy, xhat, inv, self.lnfG)
        var dx = Matrix<T>(rows: x.rows, columns: x.columns)
        for (j, p) in positions.enumerated() { for i in 0..<x.rows { dx[i, p] += dsel[i, j] } }
        return dx
      }
    )
  }

  public func converted<U: LinalgScalar>(to: U.Type = U.self) -> GPTJWeights<U> {
    func c(_ m: Matrix<T>) -> Matrix<U> { m.converted(to: U.self) }
    func v(_ a: [T]) -> [U] { a.map { U(Double($0)) } }
    return GPTJWeights<U>(
      config: config,
      blocks: (0..<(store?.count ?? blocks.count)).map { block($0) }.map {
        GPTJWeights<U>.Block(
          lng: v($0.lng), lnb: v($0.lnb), wq: c($0.wq), wk: c($0.wk), wv: c($0.wv), wo: c($0.wo), fcIn: c($0.fcIn),
          fcInB: v($0.fcInB), fcOut: c($0.fcOut), fcOutB: v($0.fcOutB))
      }, wte: c(wte), lnfG: v(lnfG), lnfB: v(lnfB), lmHead: lmHead.map(c), lmBias: v(lmBias))
  }
}

/// GPT-J (GPT-J-6B's family) from a Hugging Face folder: blocks widened to fp32 once when they
/// fit, streamed from their stored type (F16/BF16/F32) otherwise (``WeightResidency``); blocks
/// after the last capture not read.
public final class GPTJModel: @unchecked Sendable {
  public let path: String
  public let tokenizer: BPETokenizer
  var weights: GPTJWeights<Float>

  public init(
    folder path: String, upToLayer: Int? = nil, residency: WeightResidency = .auto,
    progress: (Int, Int) -> Void = { _, _ in }
  ) throws {
    let ck = try HFCheckpoint(path: path)
    let cfg = try GPTJConfig(ck)
    let d = cfg.width
    var expected: [(String, [Int])] = [
      ("transformer.wte.weight", [cfg.vocabularySize, d]), ("transformer.ln_f.weight", [d]),
      ("transformer.ln_f.bias", [d]), ("lm_head.weight", [cfg.vocabularySize, d]),
      ("lm_head.bias", [cfg.vocabularySize]),
    ]
    for l in 0..<cfg.blockCount {
      let b = "transformer.h.\(l)."
      expected += [
        (b + "ln_1.weight", [d]), (b + "ln_1.bias", [d]), (b + "attn.q_proj.weight", [d, d]),
        (b + "attn.k_proj.weight", [d, d]), (b + "attn.v_proj.weight", [d, d]), (b + "attn.out_proj.weight", [d, d]),
        (b + "mlp.fc_in.weight", [cfg.mlpWidth, d]), (b + "mlp.fc_in.bias", [cfg.mlpWidth]),
        (b + "mlp.fc_out.weight", [d, cfg.mlpWidth]), (b + "mlp.fc_out.bias", [d]),
      ]
    }
    for (n, shape) in expected {
      guard let t = ck.tensor(n) else { throw ModelFileError.missingTensor(path: path, name: n) }
      guard t.shape == shape else {
        throw ModelFileError.shapeMismatch(tensor: n, expected: "\(shape)", got: "\(t.shape)")
      }
    }
    self.path = path
    tokenizer = try BPETokenizer(
      tokenizerJSON: path + "/tokenizer.json", bosID: ck.config["bos_token_id"] as? Int,
      eosID: ck.config["eos_token_id"] as? Int)
    guard tokenizer.vocabularySize <= cfg.vocabularySize else {
      throw ModelFileError.invalid(
        path: path + "/tokenizer.json", offset: 0,
        message: "the tokenizer has \(tokenizer.vocabularySize) tokens, the embedding \(cfg.vocabularySize) rows")
    }
    let last = min(upToLayer ?? cfg.blockCount - 1, cfg.blockCount - 1)
    let n = last + 1
    let blockBytes = 4 * (4 * d * d + 2 * d * cfg.mlpWidth + cfg.mlpWidth + 3 * d)
    let headBytes = 4 * (cfg.vocabularySize * d * (n == cfg.blockCount ? 2 : 1) + cfg.vocabularySize + 2 * d)
    let streamed = try BlockStore<GPTJWeights<Float>.Block>.streams(
      residency, blocks: n, blockBytes: blockBytes, otherBytes: headBytes)
    let store = try BlockStore<GPTJWeights<Float>.Block>.make(n, streamed: streamed, what: path, progress: progress) {
      l, block in
      let p = "transformer.h.\(l)."
      if block == nil {
        func z(_ r: Int, _ c: Int) -> Matrix<Float> { Matrix(rows: r, columns: c) }
        func v(_ k: Int) -> [Float] { [Float](repeating: 0, count: k) }
        let (d, k) = (cfg.width, cfg.mlpWidth)
        block = GPTJWeights<Float>.Block(
          lng: v(d), lnb: v(d), wq: z(d, d), wk: z(d, d), wv: z(d, d), wo: z(d, d), fcIn: z(d, k), fcInB: v(k),
          fcOut: z(k, d), fcOutB: v(d))
      }
      try ck.read(p + "ln_1.weight", into: &block!.lng)
      try ck.read(p + "ln_1.bias", into: &block!.lnb)
      try ck.read(p + "attn.q_proj.weight", into: &block!.wq)
      try ck.read(p + "attn.k_proj.weight", into: &block!.wk)
      try ck.read(p + "attn.v_proj.weight", into: &block!.wv)
      try ck.read(p + "attn.out_proj.weight", into: &block!.wo)
      try ck.read(p + "mlp.fc_in.weight", into: &block!.fcIn)
      try ck.read(p + "mlp.fc_in.bias", into: &block!.fcInB)
      try ck.read(p + "mlp.fc_out.weight", into: &block!.fcOut)
      try ck.read(p + "mlp.fc_out.bias", into: &block!.fcOutB)
    }
    let full = n == cfg.blockCount
    weights = GPTJWeights(
      config: cfg, blocks: [], wte: try ck.matrix("transformer.wte.weight"),
      lnfG: try ck.floats("transformer.ln_f.weight"), lnfB: try ck.floats("transformer.ln_f.bias"),
      lmHead: full ? try ck.matrix("lm_head.weight") : nil, lmBias: full ? try ck.floats("lm_head.bias") : [],
      store: store)
  }

  public var config: GPTJConfig { weights.config }
  public var loadedBlocks: Int { weights.store?.count ?? weights.blocks.count }
  /// Whether the blocks stay in the file's stored type and are decoded as passes reach them.
  public var isStreamed: Bool { weights.store?.isStreamed ?? false }
}

extension GPTJModel: LanguageModel {
  public var architecture: String { "gptj" }
  public var displayName: String? { config.name.flatMap { $0.isEmpty ? nil : $0 } }
  public var width: Int { config.width }
  public var keyWidth: Int { config.mlpWidth }
  public var blockCount: Int { config.blockCount }
  public var contextLength: Int { config.contextLength }
  public var vocabularySize: Int { config.vocabularySize }
  public var editedWeightTemplate: String { "transformer.h.{}.mlp.fc_out" }

  public func forward(_ tokens: [Int], capture: [Int: Set<Capture>], logits: LogitsMode, profile: ForwardProfile?)
    throws -> (logits: Matrix<Float>?, captures: [Int: [Capture: Matrix<Float>]])
  {
    let lastNeeded = try ForwardRequest.check(
      tokens, capture: capture, logits: logits, blocks: config.blockCount, loaded: loadedBlocks,
      context: config.contextLength, vocabulary: config.vocabularySize)
    let scratch = LlamaKernels.AttentionScratch(tokens: tokens.count, group: 1, headDim: config.headDim)
    let table = LlamaKernels.RopeTable(positions: tokens.count, ropeDims: config.rotaryDim, base: 10_000)
    return ForwardRequest.run(
      tokens: tokens, capture: capture, logits: logits, lastNeeded: lastNeeded, embedded: try weights.embed(tokens)
    ) { l, x in
      weights.fastBlockForward(l, x, rope: table, scratch: scratch)
    } head: {
      weights.head($0, positions: $1).0
    }
  }

  public func editedWeight(_ layer: Int) throws -> Matrix<Float> {
    guard layer >= 0 && layer < loadedBlocks else { throw ModelError.notLoaded(layer: layer, loaded: loadedBlocks) }
    return weights.block(layer).fcOut.transposed
  }

  public func setEditedWeight(_ layer: Int, _ w: Matrix<Float>) throws {
    guard layer >= 0 && layer < loadedBlocks else { throw ModelError.notLoaded(layer: layer, loaded: loadedBlocks) }
    guard w.rows == config.width, w.columns == config.mlpWidth else {
      throw ModelFileError.shapeMismatch(
        tensor: "transformer.h.\(layer).mlp.fc_out", expected: "\(config.width) x \(config.mlpWidth)",
        got: w.shapeDescription)
    }
    let stored = w.transposed
    weights.store!.modify(layer, key: "fc_out") { $0.fcOut = stored }
  }

  /// Writes a Hugging Face folder at `path`: the source's files, every tensor as stored, the
  /// `mlp.fc_out` of `editedLayers` as F32.
  public func save(to path: String, editedLayers: [Int]) throws {
    var rep: [String: Matrix<Float>] = [:]
    for l in editedLayers {
      guard l >= 0 && l < loadedBlocks else { throw ModelError.notLoaded(layer: l, loaded: loadedBlocks) }
      rep["transformer.h.\(l).mlp.fc_out.weight"] = weights.block(l).fcOut.transposed
    }
    try HFCheckpoint(path: self.path).write(to: URL(fileURLWithPath: path), replacing: rep)
  }

  public func residualStreamModel() throws -> ResidualStreamModel {
    guard loadedBlocks == config.blockCount else {
      throw ModelError.notLoaded(layer: config.blockCount - 1, loaded: loadedBlocks)
    }
    return weights
  }
}

extension GPTJWeights: ResidualStreamModel, BlockStack where T == Float {
  public var width: Int { config.width }
  public var blockCount: Int { config.blockCount }
}

extension GPTJWeights where T == Float {
  /// Block `l` without a cache (statistics, keys, logits): LayerNorm/GELU C kernels, the RoPE
  /// and blocked attention kernels of the Llama path, BLAS products; ``blockForward(_:_:)`` is
  /// its reference.     x: d x T -> (d x T, keys, MLP output)
  func fastBlockForward(
    _ l: Int, _ x: Matrix<Float>, rope table: LlamaKernels.RopeTable, scratch: LlamaKernels.AttentionScratch
  ) -> (Matrix<Float>, keys: Matrix<Float>, mlpOut: Matrix<Float>) {
    let b = block(l)
    let c = config
    let n = x.columns
    let h = FastOps.layerNorm(x, b.lng, b.lnb, eps: c.epsilon)
    var q = Matrix<Float>(rows: c.width, columns: n)
    var k = Matrix<Float>(rows: c.width, columns: n)
    var v = Matrix<Float>(rows: c.width, columns: n)
    LlamaKernels.linear(into: &q, b.wq, h)
    LlamaKernels.linear(into: &k, b.wk, h)
    LlamaKernels.linear(into: &v, b.wv, h)
    LlamaKernels.rope(&q, heads: c.heads, headDim: c.headDim, table: table)
    LlamaKernels.rope(&k, heads: c.heads, headDim: c.headDim, table: table)
    var o = Matrix<Float>(rows: c.heads * c.headDim, columns: n)
    LlamaKernels.attention(&o, q: q, k: k, v: v, heads: c.heads, kvHeads: c.heads, headDim: c.headDim, scratch: scratch)
    var f = Matrix<Float>(rows: c.mlpWidth, columns: n)
    LlamaKernels.linear(into: &f, b.fcIn, h)
    FastOps.addBias(&f, b.fcInB)
    FastOps.gelu(&f, exact: c.activation == "gelu")
    var m = Matrix<Float>(rows: c.width, columns: n)
    LlamaKernels.linear(into: &m, b.fcOut, f)
    FastOps.addBias(&m, b.fcOutB)
    var y = x + m
    LlamaKernels.linear(into: &y, b.wo, o, accumulate: true)
    return (y, f, m)
  }
}

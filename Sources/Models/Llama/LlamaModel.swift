import Foundation
import Linalg

/// Why a forward pass or model load was refused.
public enum ModelError: Error, CustomStringConvertible, Equatable, Sendable {
  case tokenOutOfRange(index: Int, token: Int, vocabulary: Int)
  case layerOutOfRange(layer: Int, blocks: Int)
  case emptyInput
  case notLoaded(layer: Int, loaded: Int)
  case memory(needed: Int, available: Int, what: String)
  /// A window longer than the model's context length.
  case contextTooLong(context: Int, limit: Int)

  public var description: String {
    switch self {
    case .tokenOutOfRange(let i, let t, let v): "token \(i) has id \(t), outside the vocabulary of \(v)"
    case .layerOutOfRange(let l, let b): "layer \(l) is out of range: the model has blocks 0...\(b - 1)"
    case .emptyInput: "no tokens to run (empty text?)"
    case .notLoaded(let l, let n): "layer \(l) was not loaded (blocks 0...\(n - 1) are)"
    case .contextTooLong(let c, let l): "a window of \(c) tokens exceeds the model's context length of \(l)"
    case .memory(let n, let a, let w):
      "\(w) needs about \(n >> 20) MiB but only \(a >> 20) MiB are available; load fewer layers (up to the one you capture)"
    }
  }
}

/// Wall-clock seconds per kernel of forward passes (pass one to ``LlamaModel/forward(_:capture:logits:profile:)``).
public final class ForwardProfile: @unchecked Sendable {
  public var seconds: [String: Double] = [:]
  public init() {}
}

/// A Llama-architecture model from a GGUF file, weights dequantised once into fp32, with a
/// batched forward pass over a whole sequence (BLAS products) and capture hooks.
public final class LlamaModel: @unchecked Sendable {
  public let config: LlamaConfig
  public let tokenizer: BPETokenizer
  public let path: String
  /// The token embedding, `width x vocabulary` (column v is token v's vector).
  public let embedding: Matrix<Float>
  public let output: Matrix<Float>?
  public let outputNorm: [Float]
  /// Blocks `0..<loadedBlocks`, resident or streamed (``block(_:)``).
  public let store: BlockStore<LlamaBlock>

  /// Block `l`'s fp32 weights (decoded from the file first when the blocks are streamed).
  public func block(_ l: Int) -> LlamaBlock { store.block(l) }

  /// Whether the blocks stay in the file's stored type and are decoded as passes reach them.
  public var isStreamed: Bool { store.isStreamed }

  /// Loads blocks `0..<(upToLayer + 1)` (all by default) and the output head when all are
  /// loaded. The blocks are resident in fp32 when they fit in memory and streamed from the
  /// file (dequantised whenever a pass reaches them) otherwise (``WeightResidency``); a load
  /// that does not fit either way is refused with the estimate.
  public init(
    file f: GGUFFile, upToLayer: Int? = nil, residency: WeightResidency = .auto,
    progress: (Int, Int) -> Void = { _, _ in }
  ) throws {
    config = try LlamaConfig(f)
    tokenizer = try BPETokenizer(f)
    path = f.path
    let c = config
    if let l = upToLayer, l < 0 || l >= c.blockCount {
      throw ModelError.layerOutOfRange(layer: l, blocks: c.blockCount)
    }
    let n = (upToLayer ?? c.blockCount - 1) + 1
    let blockBytes = Self.fp32Bytes(f, blocks: n, full: false) - 4 * c.vocabularySize * c.width
    let headBytes = Self.fp32Bytes(f, blocks: 0, full: n == c.blockCount)
    let streamed = try BlockStore<LlamaBlock>.streams(
      residency, blocks: n, blockBytes: blockBytes, otherBytes: headBytes)
    embedding = try LlamaBlockDecoding.matrix(f, "token_embd.weight", c.width, c.vocabularySize)
    store = try BlockStore.make(n, streamed: streamed, what: f.path, progress: progress) { l, b in
      try LlamaBlockDecoding.ggufBlock(f, c, l, into: &b)
    }
    if n == c.blockCount {
      outputNorm = try LlamaBlockDecoding.vector(f, "output_norm.weight", c.width)
      output = c.tiedOutput ? nil : try LlamaBlockDecoding.matrix(f, "output.weight", c.width, c.vocabularySize)
    } else {
      outputNorm = []
      output = nil
    }
  }

  /// A Llama-family model from a Hugging Face folder (`LlamaForCausalLM`, Mistral without a
  /// binding sliding window, Qwen2): weights in their stored type (F32/F16/BF16) are widened
  /// to fp32 block by block (``LlamaBlockDecoding/folderBlock(_:_:_:into:)``: no transposes;
  /// q/k rows permuted from HF's half-split rotary layout to the interleaved one), resident
  /// when they fit and streamed from the mapped shards otherwise. The tokenizer comes from
  /// `tokenizer.json`.
  public init(
    folder path: String, upToLayer: Int? = nil, residency: WeightResidency = .auto,
    progress: (Int, Int) -> Void = { _, _ in }
  ) throws {
    let ck = try HFCheckpoint(path: path)
    config = try LlamaConfig(hf: ck)
    let c = config
    tokenizer = try BPETokenizer(
      tokenizerJSON: path + "/tokenizer.json", bosID: ck.config["bos_token_id"] as? Int,
      eosID: ck.config["eos_token_id"] as? Int)
    guard tokenizer.vocabularySize <= c.vocabularySize else {
      throw ModelFileError.invalid(
        path: path + "/tokenizer.json", offset: 0,
        message: "the tokenizer has \(tokenizer.vocabularySize) tokens, the embedding \(c.vocabularySize) rows")
    }
    self.path = path
    if let l = upToLayer, l < 0 || l >= c.blockCount {
      throw ModelError.layerOutOfRange(layer: l, blocks: c.blockCount)
    }
    let n = (upToLayer ?? c.blockCount - 1) + 1
    let blockBytes =
      4
      * (2 * c.width * c.headCount * c.headDim + 2 * c.width * c.kvHeadCount * c.headDim
        + 3 * c.width * c.mlpWidth + 2 * c.width)
    let headBytes = 4 * c.vocabularySize * c.width * (n == c.blockCount && !c.tiedOutput ? 2 : 1)
    let streamed = try BlockStore<LlamaBlock>.streams(
      residency, blocks: n, blockBytes: blockBytes, otherBytes: headBytes)
    /// HF `(vocabulary, width)` row-major is `width x vocabulary` column-major as it lies.
    func table(_ name: String) throws -> Matrix<Float> {
      var m = Matrix<Float>(rows: c.width, columns: c.vocabularySize)
      try ck.read(name, into: &m)
      return m
    }
    embedding = try table("model.embed_tokens.weight")
    store = try BlockStore.make(n, streamed: streamed, what: path, progress: progress) { l, b in
      try LlamaBlockDecoding.folderBlock(ck, c, l, into: &b)
    }
    if n == c.blockCount {
      outputNorm = try ck.floats("model.norm.weight")
      output = c.tiedOutput ? nil : try table("lm_head.weight")
    } else {
      outputNorm = []
      output = nil
    }
  }

  /// Bytes of the fp32 weights that a load of `blocks` blocks (and the head if `full`) holds.
  static func fp32Bytes(_ f: GGUFFile, blocks: Int, full: Bool) -> Int {
    var n = 0
    for t in f.tensors {
      if t.name.hasPrefix("blk.") {
        let idx = Int(t.name.split(separator: ".")[1]) ?? Int.max
        if idx < blocks { n += t.elementCount }
      } else if t.name == "token_embd.weight" || full {
        n += t.elementCount
      }
    }
    return 4 * n
  }

  public var loadedBlocks: Int { store.count }

  /// Replaces block `layer`'s `ffn_down` (mlpWidth x width, GGUF layout): how edits are applied
  /// and undone. The shape must match.
  public func setDown(_ layer: Int, _ m: Matrix<Float>) throws {
    guard layer >= 0 && layer < store.count else { throw ModelError.notLoaded(layer: layer, loaded: store.count) }
    let (rows, cols) = (config.mlpWidth, config.width)
    guard m.rows == rows && m.columns == cols else {
      throw ModelFileError.shapeMismatch(
        tensor: "blk.\(layer).ffn_down.weight", expected: "[\(rows), \(cols)]", got: "[\(m.rows), \(m.columns)]")
    }
    store.modify(layer, key: "down") { $0.down = m }
  }

  /// The forward pass over `tokens` (positions 0..<T). Captures the requested tensors at the
  /// requested layers and stops after the last block needed when no logits are asked for.
  public func forward(
    _ tokens: [Int], capture: [Int: Set<Capture>] = [:], logits: LogitsMode = .all, profile: ForwardProfile? = nil
  ) throws -> (logits: Matrix<Float>?, captures: [Int: [Capture: Matrix<Float>]]) {
    try forward(tokens, start: 0, cache: nil, capture: capture, logits: logits, profile: profile)
  }

  /// The forward pass of `tokens` at positions `start...`, after the `start` tokens whose keys
  /// and values `cache` holds (it must hold exactly `start`; this pass appends its own). With
  /// no cache, `start` must be 0.
  func forward(
    _ tokens: [Int], start: Int, cache: KVCache?, capture: [Int: Set<Capture>], logits: LogitsMode,
    profile: ForwardProfile?
  ) throws -> (logits: Matrix<Float>?, captures: [Int: [Capture: Matrix<Float>]]) {
    precondition(start == (cache?.length ?? 0), "the cache holds \(cache?.length ?? 0) positions, not \(start)")
    // Every block must run to extend every block's cache.
    precondition(cache == nil || logits != .none, "a cached pass computes logits")
    // Columns a failed pass appended are dropped: the cache holds committed positions only.
    cache?.rollBack()
    if start + tokens.count > config.contextLength {
      throw ModelError.contextTooLong(context: start + tokens.count, limit: config.contextLength)
    }
    func timed<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
      guard let profile else { return try body() }
      let t0 = DispatchTime.now().uptimeNanoseconds
      defer { profile.seconds[name, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
      return try body()
    }
    let c = config
    guard !tokens.isEmpty else { throw ModelError.emptyInput }
    for (i, t) in tokens.enumerated() where t < 0 || t >= c.vocabularySize {
      throw ModelError.tokenOutOfRange(index: i, token: t, vocabulary: c.vocabularySize)
    }
    for l in capture.keys {
      if l < 0 || l >= c.blockCount { throw ModelError.layerOutOfRange(layer: l, blocks: c.blockCount) }
      if l >= store.count { throw ModelError.notLoaded(layer: l, loaded: store.count) }
    }
    let lastNeeded = logits == .none ? (capture.keys.max() ?? -1) : c.blockCount - 1
    if lastNeeded >= store.count { throw ModelError.notLoaded(layer: lastNeeded, loaded: store.count) }
    let t = tokens.count
    // x: width x T, the residual stream
    var x = Matrix<Float>(rows: c.width, columns: t)
    for (j, tok) in tokens.enumerated() {
      for i in 0..<c.width { x[i, j] = embedding[i, tok] }
    }
    var captures: [Int: [Capture: Matrix<Float>]] = [:]
    var h = Matrix<Float>(rows: c.width, columns: t)
    var att = Matrix<Float>(rows: c.headCount * c.headDim, columns: t)
    let ropeTable = timed("rope") {
      LlamaKernels.RopeTable(
        positions: t, ropeDims: c.ropeDimensions, base: c.ropeBase, start: start,
        frequencies: c.customRopeFrequencies)
    }
    // Workspaces reused by every block (fresh multi-MB buffers per block cost page faults).
    var q = Matrix<Float>(rows: c.headCount * c.headDim, columns: t)
    var k = Matrix<Float>(rows: c.kvHeadCount * c.headDim, columns: t)
    var v = Matrix<Float>(rows: c.kvHeadCount * c.headDim, columns: t)
    var gate = Matrix<Float>(rows: c.mlpWidth, columns: t)
    var keys = Matrix<Float>(rows: c.mlpWidth, columns: t)
    var m = Matrix<Float>(rows: c.width, columns: t)
    let attentionScratch = LlamaKernels.AttentionScratch(
      tokens: start + t, group: c.headCount / c.kvHeadCount, headDim: c.headDim)
    for l in 0...max(lastNeeded, -1) where l >= 0 {
      let b = timed("weights") { store.block(l) }
      let want = capture[l] ?? []
      // attention sub-block: x += Wo attn(rope(Wq h), rope(Wk h), Wv h), h = rmsnorm(x)
      timed("rmsnorm") { LlamaKernels.rmsNorm(&h, x, b.attnNorm, eps: Float(c.rmsEpsilon)) }
      timed("qkv") {
        LlamaKernels.linear(into: &q, b.wq, h)
        LlamaKernels.linear(into: &k, b.wk, h)
        LlamaKernels.linear(into: &v, b.wv, h)
        LlamaBlock.addBias(&q, b.bq)
        LlamaBlock.addBias(&k, b.bk)
        LlamaBlock.addBias(&v, b.bv)
      }
      timed("rope") {
        LlamaKernels.rope(&q, heads: c.headCount, headDim: c.headDim, table: ropeTable)
        LlamaKernels.rope(&k, heads: c.kvHeadCount, headDim: c.headDim, table: ropeTable)
      }
      timed("attention") {
        if let cache {
          cache.append(layer: l, keys: k, values: v)
          LlamaKernels.attention(
            &att, q: q, k: cache.keys[l], v: cache.values[l], heads: c.headCount, kvHeads: c.kvHeadCount,
            headDim: c.headDim, offset: start, scratch: attentionScratch)
        } else {
          LlamaKernels.attention(
            &att, q: q, k: k, v: v, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim,
            scratch: attentionScratch)
        }
      }
      timed("output proj") { LlamaKernels.linear(into: &x, b.wo, att, accumulate: true) }
      // MLP sub-block: x += W_down (silu(W_gate h) * W_up h), h = rmsnorm(x)
      timed("rmsnorm") { LlamaKernels.rmsNorm(&h, x, b.ffnNorm, eps: Float(c.rmsEpsilon)) }
      timed("gate/up") {
        LlamaKernels.linear(into: &gate, b.gate, h)
        LlamaKernels.linear(into: &keys, b.up, h)
      }
      timed("swiglu") { LlamaKernels.swigluInPlace(&keys, gate: gate) }
      // The residual add happens inside the product (BLAS beta = 1). A captured MLP output is
      // a second product of its own, so that capturing never changes the rounding of x: the
      // logits are bit-identical whatever is captured.
      if want.contains(.mlpOut) { timed("down") { LlamaKernels.linear(into: &m, b.down, keys) } }
      timed("down") { LlamaKernels.linear(into: &x, b.down, keys, accumulate: true) }
      if !want.isEmpty {
        var got: [Capture: Matrix<Float>] = [:]
        if want.contains(.keys) { got[.keys] = keys }
        if want.contains(.mlpOut) { got[.mlpOut] = m }
        if want.contains(.hidden) { got[.hidden] = x }
        captures[l] = got
      }
    }
    guard logits != .none else { return (nil, captures) }
    let cols = logits == .last ? [t - 1] : Array(0..<t)
    var last = Matrix<Float>(rows: c.width, columns: cols.count)
    for (k, j) in cols.enumerated() { for i in 0..<c.width { last[i, k] = x[i, j] } }
    var normed = last
    LlamaKernels.rmsNorm(&normed, last, outputNorm, eps: Float(c.rmsEpsilon))
    // logits: vocabulary x T = Eᵀ x (E: width x vocabulary)
    let logitMatrix = try timed("logits") { try Matrix.multiply(output ?? embedding, normed, transA: .transpose) }
    cache?.commit()
    return (logitMatrix, captures)
  }

  /// Keys and values (after RoPE) of every block for the positions run so far.
  final class KVCache {
    private(set) var keys: [Matrix<Float>]
    private(set) var values: [Matrix<Float>]
    /// Positions of completed passes (a pass appends to every block, then commits).
    private(set) var length = 0

    init(blocks: Int, rows: Int) {
      keys = Array(repeating: Matrix(rows: rows, columns: 0), count: blocks)
      values = keys
    }

    /// Every block's columns now belong to a completed pass.
    func commit() { length = keys.last?.columns ?? 0 }

    /// Drops the columns beyond `length` (a pass that failed part way).
    func rollBack() {
      for l in keys.indices where keys[l].columns > length {
        keys[l] = keys[l].submatrix(rows: 0..<keys[l].rows, columns: 0..<length)
        values[l] = values[l].submatrix(rows: 0..<values[l].rows, columns: 0..<length)
      }
    }

    /// Appends a pass's columns (column-major: the storages concatenate).
    func append(layer l: Int, keys k: Matrix<Float>, values v: Matrix<Float>) {
      keys[l] = try! Matrix(
        rows: k.rows, columns: keys[l].columns + k.columns, columnMajor: keys[l].storage + k.storage)
      values[l] = try! Matrix(
        rows: v.rows, columns: values[l].columns + v.columns, columnMajor: values[l].storage + v.storage)
    }
  }

  /// A sequence decoded token by token with a KV cache: each new token costs one token's pass.
  final class CachedStream: TokenStream {
    let model: LlamaModel
    let cache: KVCache
    private(set) var tokens: [Int] = []

    init(_ model: LlamaModel) throws {
      guard model.loadedBlocks == model.config.blockCount else {
        throw ModelError.notLoaded(layer: model.config.blockCount - 1, loaded: model.loadedBlocks)
      }
      self.model = model
      cache = KVCache(blocks: model.config.blockCount, rows: model.config.kvHeadCount * model.config.headDim)
    }

    func append(_ new: [Int]) throws -> Matrix<Float> {
      let r = try model.forward(new, start: tokens.count, cache: cache, capture: [:], logits: .last, profile: nil)
      tokens += new
      return r.logits!
    }
  }

  /// Softmax probabilities of one logits column, in fp64 (``Logits/probabilities(_:column:)``).
  public static func probabilities(_ logits: Matrix<Float>, column: Int) -> [Double] {
    Logits.probabilities(logits, column: column)
  }
}

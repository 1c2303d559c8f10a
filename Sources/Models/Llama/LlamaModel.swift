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
  public private(set) var blocks: [LlamaBlock]

  /// Loads blocks `0..<(upToLayer + 1)` (all by default) and the output head when all are
  /// loaded. Refuses with an estimate when the fp32 weights would not fit in memory.
  public init(file f: GGUFFile, upToLayer: Int? = nil, progress: (Int, Int) -> Void = { _, _ in }) throws {
    config = try LlamaConfig(f)
    tokenizer = try BPETokenizer(f)
    path = f.path
    let c = config
    if let l = upToLayer, l < 0 || l >= c.blockCount {
      throw ModelError.layerOutOfRange(layer: l, blocks: c.blockCount)
    }
    let n = (upToLayer ?? c.blockCount - 1) + 1
    let needed = Self.fp32Bytes(f, blocks: n, full: n == c.blockCount)
    let available = Int(ProcessInfo.processInfo.physicalMemory) * 8 / 10
    if needed > available {
      throw ModelError.memory(needed: needed, available: available, what: "fp32 weights of \(n) blocks")
    }
    func vector(_ name: String, _ len: Int) throws -> [Float] {
      let m = try f.matrix(name)
      guard m.storage.count == len else {
        throw ModelFileError.shapeMismatch(tensor: name, expected: "[\(len)]", got: "\(m.rows) x \(m.columns)")
      }
      return m.storage
    }
    func matrix(_ name: String, _ rows: Int, _ cols: Int) throws -> Matrix<Float> {
      let m = try f.matrix(name)
      guard m.rows == rows && m.columns == cols else {
        throw ModelFileError.shapeMismatch(
          tensor: name, expected: "[\(rows), \(cols)]", got: "[\(m.rows), \(m.columns)]")
      }
      return m
    }
    embedding = try matrix("token_embd.weight", c.width, c.vocabularySize)
    let qw = c.headCount * c.headDim
    let kvw = c.kvHeadCount * c.headDim
    var bs: [LlamaBlock] = []
    for l in 0..<n {
      let p = "blk.\(l)."
      bs.append(
        LlamaBlock(
          attnNorm: try vector(p + "attn_norm.weight", c.width),
          wq: try matrix(p + "attn_q.weight", c.width, qw), wk: try matrix(p + "attn_k.weight", c.width, kvw),
          wv: try matrix(p + "attn_v.weight", c.width, kvw), wo: try matrix(p + "attn_output.weight", qw, c.width),
          ffnNorm: try vector(p + "ffn_norm.weight", c.width),
          gate: try matrix(p + "ffn_gate.weight", c.width, c.mlpWidth),
          up: try matrix(p + "ffn_up.weight", c.width, c.mlpWidth),
          down: try matrix(p + "ffn_down.weight", c.mlpWidth, c.width)))
      progress(l + 1, n)
    }
    blocks = bs
    if n == c.blockCount {
      outputNorm = try vector("output_norm.weight", c.width)
      output = c.tiedOutput ? nil : try matrix("output.weight", c.width, c.vocabularySize)
    } else {
      outputNorm = []
      output = nil
    }
  }

  /// A Llama-family model from a Hugging Face folder (`LlamaForCausalLM`, Mistral without a
  /// binding sliding window): weights in their stored type (F32/F16/BF16) are widened to fp32
  /// block by block; `(out, in)` matrices are transposed into this model's layout, and the
  /// rows of `q_proj`/`k_proj` are permuted from HF's half-split rotary layout (pair `j` of a
  /// head at rows `j` and `j + hd/2`) to the interleaved one the forward pass rotates (rows
  /// `2j`, `2j + 1`), as llama.cpp's converter does. The tokenizer comes from `tokenizer.json`.
  public init(folder path: String, upToLayer: Int? = nil, progress: (Int, Int) -> Void = { _, _ in }) throws {
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
    let perBlock =
      4
      * (2 * c.width * c.headCount * c.headDim + 2 * c.width * c.kvHeadCount * c.headDim
        + 3 * c.width * c.mlpWidth + 2 * c.width)
    let needed = n * perBlock + 4 * c.vocabularySize * c.width * (n == c.blockCount && !c.tiedOutput ? 2 : 1)
    let available = Int(ProcessInfo.processInfo.physicalMemory) * 8 / 10
    if needed > available {
      throw ModelError.memory(needed: needed, available: available, what: "fp32 weights of \(n) blocks")
    }
    /// HF `(out, in)` -> this model's `in x out`, with the rotary row permutation for q/k.
    func weight(_ name: String, ropeHeads: Int? = nil) throws -> Matrix<Float> {
      let w = try ck.matrix(name)  // out x in
      guard let heads = ropeHeads else { return w.transposed }
      let hd = c.headDim
      return Matrix(rows: w.columns, columns: w.rows) { i, r in
        let h = r / hd
        let within = r % hd
        let (j, s) = (within / 2, within % 2)
        return w[h * hd + s * (hd / 2) + j, i]
      }
    }
    /// A bias, its entries permuted like the rows of its matrix for q/k.
    func bias(_ name: String, ropeHeads: Bool) throws -> [Float] {
      let v = try ck.floats(name)
      guard ropeHeads else { return v }
      let hd = c.headDim
      return (0..<v.count).map { r in
        let within = r % hd
        return v[(r / hd) * hd + (within % 2) * (hd / 2) + within / 2]
      }
    }
    embedding = try weight("model.embed_tokens.weight")
    var bs: [LlamaBlock] = []
    for l in 0..<n {
      let p = "model.layers.\(l)."
      bs.append(
        LlamaBlock(
          attnNorm: try ck.floats(p + "input_layernorm.weight"),
          wq: try weight(p + "self_attn.q_proj.weight", ropeHeads: c.headCount),
          wk: try weight(p + "self_attn.k_proj.weight", ropeHeads: c.kvHeadCount),
          wv: try weight(p + "self_attn.v_proj.weight"), wo: try weight(p + "self_attn.o_proj.weight"),
          ffnNorm: try ck.floats(p + "post_attention_layernorm.weight"),
          gate: try weight(p + "mlp.gate_proj.weight"), up: try weight(p + "mlp.up_proj.weight"),
          down: try weight(p + "mlp.down_proj.weight"),
          bq: c.qkvBias ? try bias(p + "self_attn.q_proj.bias", ropeHeads: true) : nil,
          bk: c.qkvBias ? try bias(p + "self_attn.k_proj.bias", ropeHeads: true) : nil,
          bv: c.qkvBias ? try bias(p + "self_attn.v_proj.bias", ropeHeads: false) : nil))
      progress(l + 1, n)
    }
    blocks = bs
    if n == c.blockCount {
      outputNorm = try ck.floats("model.norm.weight")
      output = c.tiedOutput ? nil : try weight("lm_head.weight")
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

  public var loadedBlocks: Int { blocks.count }

  /// Replaces block `layer`'s `ffn_down` (mlpWidth x width, GGUF layout): how edits are applied
  /// and undone. The shape must match.
  public func setDown(_ layer: Int, _ m: Matrix<Float>) throws {
    guard layer >= 0 && layer < blocks.count else { throw ModelError.notLoaded(layer: layer, loaded: blocks.count) }
    let old = blocks[layer].down
    guard m.rows == old.rows && m.columns == old.columns else {
      throw ModelFileError.shapeMismatch(
        tensor: "blk.\(layer).ffn_down.weight", expected: "[\(old.rows), \(old.columns)]",
        got: "[\(m.rows), \(m.columns)]")
    }
    blocks[layer].down = m
  }

  /// The forward pass over `tokens` (positions 0..<T). Captures the requested tensors at the
  /// requested layers and stops after the last block needed when no logits are asked for.
  public func forward(
    _ tokens: [Int], capture: [Int: Set<Capture>] = [:], logits: LogitsMode = .all, profile: ForwardProfile? = nil
  ) throws -> (logits: Matrix<Float>?, captures: [Int: [Capture: Matrix<Float>]]) {
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
      if l >= blocks.count { throw ModelError.notLoaded(layer: l, loaded: blocks.count) }
    }
    let lastNeeded = logits == .none ? (capture.keys.max() ?? -1) : c.blockCount - 1
    if lastNeeded >= blocks.count { throw ModelError.notLoaded(layer: lastNeeded, loaded: blocks.count) }
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
        positions: t, ropeDims: c.ropeDimensions, base: c.ropeBase,
        frequencies: c.ropeScaling == nil ? nil : c.ropeFrequencies)
    }
    // Workspaces reused by every block (fresh multi-MB buffers per block cost page faults).
    var q = Matrix<Float>(rows: c.headCount * c.headDim, columns: t)
    var k = Matrix<Float>(rows: c.kvHeadCount * c.headDim, columns: t)
    var v = Matrix<Float>(rows: c.kvHeadCount * c.headDim, columns: t)
    var gate = Matrix<Float>(rows: c.mlpWidth, columns: t)
    var keys = Matrix<Float>(rows: c.mlpWidth, columns: t)
    var m = Matrix<Float>(rows: c.width, columns: t)
    let attentionScratch = LlamaKernels.AttentionScratch(
      tokens: t, group: c.headCount / c.kvHeadCount, headDim: c.headDim)
    for l in 0...max(lastNeeded, -1) where l >= 0 {
      let b = blocks[l]
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
        LlamaKernels.attention(
          &att, q: q, k: k, v: v, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim,
          scratch: attentionScratch)
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
    return (logitMatrix, captures)
  }

  /// Softmax probabilities of one logits column, in fp64 (``Logits/probabilities(_:column:)``).
  public static func probabilities(_ logits: Matrix<Float>, column: Int) -> [Double] {
    Logits.probabilities(logits, column: column)
  }
}

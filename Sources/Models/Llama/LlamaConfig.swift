import Foundation

/// The hyperparameters of a Llama-architecture model, read from GGUF metadata
/// (`llama.block_count`, `llama.embedding_length`, ...).
public struct LlamaConfig: Codable, Sendable, Equatable {
  public var architecture: String
  public var name: String?
  public var blockCount: Int
  /// Residual width d.
  public var width: Int
  /// MLP hidden width (the keys' dimension d_k: the input of `ffn_down`).
  public var mlpWidth: Int
  public var headCount: Int
  public var kvHeadCount: Int
  public var headDim: Int
  public var ropeBase: Double
  public var ropeDimensions: Int
  public var rmsEpsilon: Double
  public var contextLength: Int
  public var vocabularySize: Int
  public var tiedOutput: Bool
  /// Query/key/value projections with biases (Qwen2).
  public var qkvBias: Bool = false
  /// Llama-3's RoPE frequency scaling (`rope_type: llama3`), nil for plain RoPE.
  public var ropeScaling: Llama3RopeScaling? = nil
  /// A GGUF's `rope_freqs.weight` (llama.cpp's converter writes it for Llama-3.1 and later):
  /// pair i's frequency is divided by factor i. nil when the file has none.
  public var ropeFactors: [Double]? = nil

  /// The rotation frequency of each pair i < ropeDimensions/2: base^(-2i/dims), scaled by
  /// Llama-3's rule when the config asks for it, or divided by a GGUF's `rope_freqs` factors.
  public var ropeFrequencies: [Double] {
    let half = ropeDimensions / 2
    let plain = (0..<half).map { pow(ropeBase, -2 * Double($0) / Double(ropeDimensions)) }
    if let f = ropeFactors { return zip(plain, f).map { $0 / $1 } }
    return ropeScaling.map { s in plain.map { s.scaled($0) } } ?? plain
  }

  /// The frequencies when they are not plain RoPE's (what the forward passes pass on), else nil.
  public var customRopeFrequencies: [Double]? {
    ropeScaling == nil && ropeFactors == nil ? nil : ropeFrequencies
  }

  enum CodingKeys: String, CodingKey {
    case architecture, name, width
    case blockCount = "block_count", mlpWidth = "mlp_width", headCount = "head_count", kvHeadCount = "kv_head_count"
    case headDim = "head_dim", ropeBase = "rope_base", ropeDimensions = "rope_dimensions", rmsEpsilon = "rms_epsilon"
    case contextLength = "context_length", vocabularySize = "vocabulary_size", tiedOutput = "tied_output"
  }

  public static let supportedArchitectures = ["llama"]

  /// A configuration built in code (small random models for tests).
  public init(
    blockCount: Int, width: Int, mlpWidth: Int, headCount: Int, kvHeadCount: Int, vocabularySize: Int,
    ropeBase: Double = 10_000, rmsEpsilon: Double = 1e-5, tiedOutput: Bool = true, name: String? = nil
  ) {
    precondition(width % headCount == 0 && headCount % kvHeadCount == 0, "inconsistent head counts")
    architecture = "llama"
    self.name = name
    self.blockCount = blockCount
    self.width = width
    self.mlpWidth = mlpWidth
    self.headCount = headCount
    self.kvHeadCount = kvHeadCount
    headDim = width / headCount
    self.ropeBase = ropeBase
    ropeDimensions = width / headCount
    self.rmsEpsilon = rmsEpsilon
    contextLength = 2048
    self.vocabularySize = vocabularySize
    self.tiedOutput = tiedOutput
  }

  /// From a Hugging Face `config.json` (`model_type` llama or mistral): sizes, heads (grouped
  /// queries), `head_dim`, RoPE base (`rope_theta`, or transformers 5's `rope_parameters`),
  /// RMSNorm epsilon, context, vocabulary, tied head. RoPE scaling (Llama-3's `llama3`
  /// type, linear, dynamic) and attention or MLP biases (Qwen2) are refused by name: the
  /// forward pass does not have them yet.
  public init(hf c: HFCheckpoint) throws(ModelFileError) {
    let p = c.path + "/config.json"
    func bad(_ m: String) -> ModelFileError { .invalid(path: p, offset: 0, message: m) }
    let type = c.config["model_type"] as? String ?? "?"
    guard type == "llama" || type == "mistral" || type == "qwen2" else {
      throw .unsupportedArchitecture(path: c.path, architecture: type, supported: "llama, mistral, qwen2")
    }
    qkvBias = type == "qwen2"
    architecture = "llama"
    name = c.config["_name_or_path"] as? String
    blockCount = try c.int("num_hidden_layers")
    width = try c.int("hidden_size")
    mlpWidth = try c.int("intermediate_size")
    headCount = try c.int("num_attention_heads")
    kvHeadCount = (c.config["num_key_value_heads"] as? Int) ?? headCount
    headDim = (c.config["head_dim"] as? Int) ?? (headCount > 0 ? width / headCount : 0)
    ropeDimensions = headDim
    let rope = c.config["rope_parameters"] as? [String: Any]
    ropeBase = (c.config["rope_theta"] as? Double) ?? (rope?["rope_theta"] as? Double) ?? 10_000
    // Llama-3's scaling comes as `rope_scaling` (transformers 4) or inside `rope_parameters`
    // (transformers 5); other types (linear, dynamic, yarn) are refused by name.
    let scaling = (c.config["rope_scaling"] as? [String: Any]) ?? rope
    if let sc = scaling, let t = (sc["rope_type"] as? String) ?? (sc["type"] as? String), t != "default" {
      guard t == "llama3" else { throw bad("rope_type '\(t)' (RoPE scaling) is not supported yet (llama3 is)") }
      guard let f = sc["factor"] as? Double, let lo = sc["low_freq_factor"] as? Double,
        let hi = sc["high_freq_factor"] as? Double, let orig = sc["original_max_position_embeddings"] as? Int,
        f >= 1, lo > 0, hi > lo, orig > 0
      else {
        throw bad(
          "llama3 rope scaling needs factor >= 1, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings"
        )
      }
      ropeScaling = Llama3RopeScaling(factor: f, lowFreqFactor: lo, highFreqFactor: hi, originalContext: orig)
    } else if let s = c.config["rope_scaling"], !(s is NSNull), (s as? [String: Any]) == nil {
      throw bad("rope_scaling \(s) is not understood")
    }
    for key in ["attention_bias", "mlp_bias"] where (c.config[key] as? Bool) == true {
      throw bad("\(key) = true is not supported yet")
    }
    if let act = c.config["hidden_act"] as? String, act != "silu" {
      throw bad("hidden_act '\(act)' is not supported (silu)")
    }
    rmsEpsilon = (c.config["rms_norm_eps"] as? Double) ?? 1e-6
    contextLength = (c.config["max_position_embeddings"] as? Int) ?? 2048
    if type == "qwen2", (c.config["use_sliding_window"] as? Bool) == true,
      let w = c.config["sliding_window"] as? Int, w < contextLength
    {
      throw bad("use_sliding_window with sliding_window = \(w) below the context length is not supported yet")
    }
    if type == "mistral", let w = c.config["sliding_window"] as? Int, w < contextLength {
      throw bad("sliding_window = \(w) below the context length \(contextLength) is not supported yet")
    }
    vocabularySize = try c.int("vocab_size")
    tiedOutput = (c.config["tie_word_embeddings"] as? Bool) ?? false
    var problems: [String] = []
    for (k, v) in [
      ("num_hidden_layers", blockCount), ("hidden_size", width), ("intermediate_size", mlpWidth),
      ("num_attention_heads", headCount), ("num_key_value_heads", kvHeadCount), ("head_dim", headDim),
      ("vocab_size", vocabularySize), ("max_position_embeddings", contextLength),
    ] where v < 1 || v > 1 << 24 {
      problems.append("\(k) = \(v) is not a plausible size")
    }
    if problems.isEmpty {
      if headCount % kvHeadCount != 0 {
        problems.append("num_attention_heads = \(headCount) is not a multiple of num_key_value_heads = \(kvHeadCount)")
      }
      if headDim % 2 != 0 { problems.append("head_dim = \(headDim) must be even (RoPE rotates pairs)") }
      if !(rmsEpsilon.isFinite && rmsEpsilon > 0) { problems.append("rms_norm_eps = \(rmsEpsilon) must be > 0") }
      if !(ropeBase.isFinite && ropeBase > 1) { problems.append("rope_theta = \(ropeBase) must be > 1") }
      let q = headCount * headDim
      let kv = kvHeadCount * headDim
      var expected: [(String, [Int])] = [
        ("model.embed_tokens.weight", [vocabularySize, width]), ("model.norm.weight", [width]),
      ]
      if !tiedOutput { expected.append(("lm_head.weight", [vocabularySize, width])) }
      for l in 0..<blockCount {
        let b = "model.layers.\(l)."
        expected += [
          (b + "input_layernorm.weight", [width]), (b + "post_attention_layernorm.weight", [width]),
          (b + "self_attn.q_proj.weight", [q, width]), (b + "self_attn.k_proj.weight", [kv, width]),
          (b + "self_attn.v_proj.weight", [kv, width]), (b + "self_attn.o_proj.weight", [width, q]),
          (b + "mlp.gate_proj.weight", [mlpWidth, width]), (b + "mlp.up_proj.weight", [mlpWidth, width]),
          (b + "mlp.down_proj.weight", [width, mlpWidth]),
        ]
        if qkvBias {
          expected += [
            (b + "self_attn.q_proj.bias", [q]), (b + "self_attn.k_proj.bias", [kv]),
            (b + "self_attn.v_proj.bias", [kv]),
          ]
        }
      }
      for (n, shape) in expected {
        guard let t = c.tensor(n) else {
          problems.append("tensor \(n) is missing")
          continue
        }
        if t.shape != shape { problems.append("\(n) has shape \(t.shape), the config gives \(shape)") }
      }
    }
    guard problems.isEmpty else {
      throw bad("inconsistent llama hyperparameters: " + problems.prefix(5).joined(separator: "; "))
    }
  }

  public init(_ f: GGUFFile) throws(ModelFileError) {
    let arch = try f.string("general.architecture")
    guard Self.supportedArchitectures.contains(arch) else {
      throw .unsupportedArchitecture(
        path: f.path, architecture: arch, supported: Self.supportedArchitectures.joined(separator: ", "))
    }
    architecture = arch
    name = f.metadata["general.name"]?.string
    blockCount = try f.int("\(arch).block_count")
    width = try f.int("\(arch).embedding_length")
    mlpWidth = try f.int("\(arch).feed_forward_length")
    headCount = try f.int("\(arch).attention.head_count")
    kvHeadCount = f.metadata["\(arch).attention.head_count_kv"]?.int ?? headCount
    ropeBase = f.metadata["\(arch).rope.freq_base"]?.double ?? 10_000
    rmsEpsilon = try f.double("\(arch).attention.layer_norm_rms_epsilon")
    contextLength = f.metadata["\(arch).context_length"]?.int ?? 2048
    let embd = try f.requireTensor("token_embd.weight")
    vocabularySize = embd.shape.count == 2 ? embd.shape[1] : 0
    tiedOutput = f.tensor("output.weight") == nil
    headDim = headCount > 0 && width % headCount == 0 ? width / headCount : 0
    ropeDimensions = f.metadata["\(arch).rope.dimension_count"]?.int ?? headDim
    if let t = f.tensor("rope_freqs.weight") {
      let v = try f.dequantize(t)
      guard v.count == ropeDimensions / 2, v.allSatisfy({ $0 > 0 }) else {
        throw .invalid(
          path: f.path, offset: t.offset,
          message:
            "rope_freqs.weight has \(v.count) values (positive ones expected, one per RoPE pair: \(ropeDimensions / 2))"
        )
      }
      ropeFactors = v.map(Double.init)
    }
    let problems = problems(against: f)
    guard problems.isEmpty else {
      throw .invalid(
        path: f.path, offset: 0,
        message: "inconsistent \(arch) hyperparameters: " + problems.joined(separator: "; "))
    }
  }

  /// Everything in the hyperparameters that contradicts itself or the file's tensors, in
  /// words (empty when the model can run): positive sizes, heads that divide the width, a
  /// RoPE dimension that is even and at most the head size, finite positive epsilon and base,
  /// a vocabulary that matches the embedding and the tokenizer, and every block's tensors in
  /// the shapes these numbers imply (GGUF order: input width first).
  public func problems(against f: GGUFFile) -> [String] {
    var p: [String] = []
    func positive(_ name: String, _ v: Int) { if v <= 0 { p.append("\(name) = \(v) must be > 0") } }
    positive("block_count", blockCount)
    positive("embedding_length", width)
    positive("feed_forward_length", mlpWidth)
    positive("attention.head_count", headCount)
    positive("attention.head_count_kv", kvHeadCount)
    positive("context_length", contextLength)
    if blockCount > 4096 { p.append("block_count = \(blockCount) is implausible (> 4096)") }
    if headCount > 0 && width % headCount != 0 {
      p.append("embedding_length \(width) is not a multiple of head_count \(headCount)")
    }
    if kvHeadCount > 0 && headCount % kvHeadCount != 0 {
      p.append("head_count \(headCount) is not a multiple of head_count_kv \(kvHeadCount)")
    }
    if ropeDimensions <= 0 || ropeDimensions % 2 != 0 || (headDim > 0 && ropeDimensions > headDim) {
      p.append("rope.dimension_count = \(ropeDimensions) must be even and in 2...\(headDim) (the head size)")
    }
    if !(rmsEpsilon.isFinite && rmsEpsilon > 0) {
      p.append("layer_norm_rms_epsilon = \(rmsEpsilon) must be finite and > 0")
    }
    if !(ropeBase.isFinite && ropeBase > 1) { p.append("rope.freq_base = \(ropeBase) must be finite and > 1") }
    guard p.isEmpty else { return p }
    if let embd = f.tensor("token_embd.weight"), embd.shape != [width, vocabularySize] || vocabularySize <= 0 {
      p.append("token_embd.weight has shape \(embd.shape), expected [\(width), vocabulary]")
    }
    if let n = f.metadata["tokenizer.ggml.tokens"]?.array?.count, n != vocabularySize {
      p.append("the tokenizer has \(n) tokens but the embedding has \(vocabularySize) rows")
    }
    let q = headCount * headDim
    let kv = kvHeadCount * headDim
    var expected: [(String, [Int])] = [("output_norm.weight", [width])]
    if !tiedOutput { expected.append(("output.weight", [width, vocabularySize])) }
    for l in 0..<blockCount {
      expected += [
        ("blk.\(l).attn_norm.weight", [width]), ("blk.\(l).attn_q.weight", [width, q]),
        ("blk.\(l).attn_k.weight", [width, kv]), ("blk.\(l).attn_v.weight", [width, kv]),
        ("blk.\(l).attn_output.weight", [q, width]), ("blk.\(l).ffn_norm.weight", [width]),
        ("blk.\(l).ffn_gate.weight", [width, mlpWidth]), ("blk.\(l).ffn_up.weight", [width, mlpWidth]),
        ("blk.\(l).ffn_down.weight", [mlpWidth, width]),
      ]
    }
    var bad = 0
    for (name, shape) in expected {
      guard let t = f.tensor(name) else {
        bad += 1
        if bad <= 4 { p.append("tensor \(name) is missing") }
        continue
      }
      if t.shape != shape {
        bad += 1
        if bad <= 4 { p.append("tensor \(name) has shape \(t.shape), the hyperparameters imply \(shape)") }
      }
    }
    if bad > 4 { p.append("\(bad - 4) more tensors missing or misshapen") }
    return p
  }
}

/// Llama-3's RoPE scaling (transformers' `_compute_llama3_parameters`): frequencies whose
/// wavelength is short (below `originalContext / highFreqFactor`) stay, long ones (above
/// `originalContext / lowFreqFactor`) are divided by `factor`, and those between are blended
/// linearly in `originalContext / wavelength`.
public struct Llama3RopeScaling: Codable, Sendable, Equatable {
  public var factor: Double
  public var lowFreqFactor: Double
  public var highFreqFactor: Double
  public var originalContext: Int

  public func scaled(_ frequency: Double) -> Double {
    let wavelength = 2 * Double.pi / frequency
    let lowWavelength = Double(originalContext) / lowFreqFactor
    let highWavelength = Double(originalContext) / highFreqFactor
    if wavelength < highWavelength { return frequency }
    if wavelength > lowWavelength { return frequency / factor }
    let smooth = (Double(originalContext) / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
    return (1 - smooth) * frequency / factor + smooth * frequency
  }
}

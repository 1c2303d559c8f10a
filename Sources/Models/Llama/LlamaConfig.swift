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

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
    guard blockCount > 0, width > 0, mlpWidth > 0, headCount > 0, kvHeadCount > 0, width % headCount == 0,
      headCount % kvHeadCount == 0, rmsEpsilon > 0, ropeBase > 0
    else {
      throw .invalid(
        path: f.path, offset: 0,
        message:
          "inconsistent llama hyperparameters: blocks \(blockCount), width \(width), heads \(headCount)/\(kvHeadCount), mlp \(mlpWidth)"
      )
    }
    headDim = width / headCount
    ropeDimensions = f.metadata["\(arch).rope.dimension_count"]?.int ?? headDim
    guard embd.shape == [width, vocabularySize] else {
      throw .shapeMismatch(tensor: embd.name, expected: "[\(width), vocab]", got: "\(embd.shape)")
    }
  }
}

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

/// What `verify model inspect` prints: the configuration, and the tensors grouped by type.
public struct ModelSummary: Encodable, Sendable {
  public struct TypeCount: Encodable, Sendable {
    public var type: String
    public var tensors: Int
    public var parameters: Int
    public var bytes: Int
  }
  public struct Tensor: Encodable, Sendable {
    public var name: String
    public var shape: [Int]
    public var type: String
    public var bytes: Int
  }
  public var path: String
  public var fileBytes: Int
  public var ggufVersion: Int
  public var config: LlamaConfig?
  /// Why `config` is missing (unsupported architecture, ...), if it is.
  public var configError: String?
  public var tokenizer: String?
  public var preTokenizer: String?
  public var parameters: Int
  public var types: [TypeCount]
  public var tensors: [Tensor]
  public var metadata: [String: String]

  enum CodingKeys: String, CodingKey {
    case path, config, tokenizer, parameters, types, tensors, metadata
    case fileBytes = "file_bytes", ggufVersion = "gguf_version", configError = "config_error"
    case preTokenizer = "pre_tokenizer"
  }

  public init(_ f: GGUFFile) {
    path = f.path
    fileBytes = f.file.size
    ggufVersion = Int(f.version)
    do {
      config = try LlamaConfig(f)
    } catch {
      config = nil
      configError = "\(error)"
    }
    tokenizer = f.metadata["tokenizer.ggml.model"]?.string
    preTokenizer = f.metadata["tokenizer.ggml.pre"]?.string
    parameters = f.tensors.reduce(0) { $0 + $1.elementCount }
    var byType: [GGMLType: TypeCount] = [:]
    for t in f.tensors {
      var c = byType[t.type] ?? TypeCount(type: "\(t.type)", tensors: 0, parameters: 0, bytes: 0)
      c.tensors += 1
      c.parameters += t.elementCount
      c.bytes += t.byteCount
      byType[t.type] = c
    }
    types = byType.values.sorted { $0.bytes > $1.bytes }
    tensors = f.tensors.map { Tensor(name: $0.name, shape: $0.shape, type: "\($0.type)", bytes: $0.byteCount) }
    var m: [String: String] = [:]
    for k in f.metadataKeys { m[k] = f.metadata[k]!.description }
    metadata = m
  }
}

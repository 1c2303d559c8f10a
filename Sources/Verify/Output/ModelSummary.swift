import Models

/// What `verify model inspect` prints: the configuration, and the tensors grouped by type.
public struct ModelSummary: Encodable, Sendable {
  public struct TypeCount: Encodable, Sendable {
    public var type: String
    public var tensors: Int
    public var parameters: Int
    public var bytes: Int
    public init(type: String, tensors: Int, parameters: Int, bytes: Int) {
      self.type = type
      self.tensors = tensors
      self.parameters = parameters
      self.bytes = bytes
    }
  }
  public struct Tensor: Encodable, Sendable {
    public var name: String
    public var shape: [Int]
    public var type: String
    public var bytes: Int
    public init(name: String, shape: [Int], type: String, bytes: Int) {
      self.name = name
      self.shape = shape
      self.type = type
      self.bytes = bytes
    }
  }
  public var path: String
  public var fileBytes: Int
  public var ggufVersion: Int
  public var config: LlamaConfig?
  /// Why `config` is missing (unsupported architecture, ...), if it is.
  public var configError: String?
  /// The hyperparameters of a non-Llama architecture this suite runs (Gemma 3), in words.
  public var otherArchitecture: String?
  public var tokenizer: String?
  public var preTokenizer: String?
  public var parameters: Int
  public var types: [TypeCount]
  public var tensors: [Tensor]
  public var metadata: [String: String]

  enum CodingKeys: String, CodingKey {
    case path, config, tokenizer, parameters, types, tensors, metadata
    case fileBytes = "file_bytes", ggufVersion = "gguf_version", configError = "config_error"
    case otherArchitecture = "other_architecture"
    case preTokenizer = "pre_tokenizer"
  }

  public init(_ f: GGUFFile) {
    path = f.path
    fileBytes = f.fileSize
    ggufVersion = Int(f.version)
    if f.metadata["general.architecture"]?.string == "gemma3" {
      config = nil
      do {
        let c = try Gemma3Config(f)
        otherArchitecture =
          "gemma3\(c.name.map { " (\($0))" } ?? ""): blocks \(c.blockCount), width \(c.width), MLP \(c.mlpWidth) (d_k of the MLP keys), heads \(c.heads) (kv \(c.kvHeads), head dim \(c.headDim)), RoPE base \(c.globalRopeBase) global / \(c.localRopeBase) sliding, window \(c.slidingWindow), every \(c.globalEvery)th block global, RMSNorm eps \(c.epsilon), context \(c.contextLength), vocabulary \(c.vocabularySize), output tied to the token embedding"
      } catch { configError = "\(error)" }
    } else {
      do {
        config = try LlamaConfig(f)
      } catch {
        config = nil
        configError = "\(error)"
      }
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

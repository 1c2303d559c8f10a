import Foundation
import Linalg

/// GPT-2's hyperparameters from `config.json`, checked against each other.
public struct GPT2Config: Sendable, Equatable {
  public var width: Int
  public var heads: Int
  public var blockCount: Int
  public var contextLength: Int
  public var vocabularySize: Int
  public var mlpWidth: Int
  public var epsilon: Double
  /// `gelu_new` / `gelu_pytorch_tanh` (GPT-2's tanh approximation) or `gelu` (exact, erf).
  public var activation: String
  public var name: String?

  public static let supportedActivations = ["gelu_new", "gelu_pytorch_tanh", "gelu"]

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
    let p = c.path + "/config.json"
    func bad(_ m: String) -> ModelFileError { .invalid(path: p, offset: 0, message: m) }
    for (k, v) in [
      ("n_embd", width), ("n_head", heads), ("n_layer", blockCount), ("n_positions", contextLength),
      ("vocab_size", vocabularySize), ("n_inner", mlpWidth),
    ] where v < 1 || v > 1 << 24 {
      throw bad("\(k) = \(v) is not a plausible size")
    }
    guard width % heads == 0 else { throw bad("n_embd = \(width) is not divisible by n_head = \(heads)") }
    guard epsilon > 0, epsilon.isFinite else { throw bad("layer_norm_epsilon = \(epsilon) must be finite and > 0") }
    guard Self.supportedActivations.contains(activation) else {
      throw bad(
        "activation_function '\(activation)' is not supported (\(Self.supportedActivations.joined(separator: ", ")))")
    }
    if (c.config["tie_word_embeddings"] as? Bool) == false {
      throw bad("tie_word_embeddings = false: GPT-2 with its own output head is not supported yet")
    }
  }
}

/// GPT-2 (GPT2-XL's family) from a Hugging Face folder: learned positions, pre-LayerNorm
/// blocks with fused q/k/v, tanh-GELU MLP, tied output head; fp32 in memory (F16/BF16
/// checkpoints are widened at load). Forward pass over a whole window with the captures of
/// ``Capture`` (`keys` = GELU output, the input of `mlp.c_proj`; `mlpOut` = the MLP's output,
/// bias included, as the module returns it).
public final class GPT2Model: @unchecked Sendable {
  public let config: GPT2Config
  public let tokenizer: BPETokenizer
  public let path: String
  /// The weights (Conv1D matrices transposed once at load to `out x in`); their forward pass
  /// is this model's, and they are the differentiable model target vectors use.
  var weights: DifferentiableGPT2<Float>
  var blocks: [DifferentiableGPT2<Float>.Block] { weights.blocks }

  /// Loads blocks `0...upToLayer` (all by default); the config is checked against every
  /// tensor's shape first.
  public init(folder path: String, upToLayer: Int? = nil, progress: (Int, Int) -> Void = { _, _ in }) throws {
    let ck = try HFCheckpoint(path: path)
    let cfg = try GPT2Config(ck)
    let prefix = ck.tensor("transformer.wte.weight") != nil ? "transformer." : ""
    func name(_ n: String) -> String { prefix + n }
    let d = cfg.width
    var expected: [(String, [Int])] = [
      ("wte.weight", [cfg.vocabularySize, d]), ("wpe.weight", [cfg.contextLength, d]), ("ln_f.weight", [d]),
      ("ln_f.bias", [d]),
    ]
    for l in 0..<cfg.blockCount {
      let b = "h.\(l)."
      expected += [
        (b + "ln_1.weight", [d]), (b + "ln_1.bias", [d]), (b + "ln_2.weight", [d]), (b + "ln_2.bias", [d]),
        (b + "attn.c_attn.weight", [d, 3 * d]), (b + "attn.c_attn.bias", [3 * d]),
        (b + "attn.c_proj.weight", [d, d]), (b + "attn.c_proj.bias", [d]),
        (b + "mlp.c_fc.weight", [d, cfg.mlpWidth]), (b + "mlp.c_fc.bias", [cfg.mlpWidth]),
        (b + "mlp.c_proj.weight", [cfg.mlpWidth, d]), (b + "mlp.c_proj.bias", [d]),
      ]
    }
    for (n, shape) in expected {
      guard let t = ck.tensor(name(n)) else { throw ModelFileError.missingTensor(path: path, name: name(n)) }
      guard t.shape == shape else {
        throw ModelFileError.shapeMismatch(tensor: name(n), expected: "\(shape)", got: "\(t.shape)")
      }
    }
    let last = min(upToLayer ?? cfg.blockCount - 1, cfg.blockCount - 1)
    try LoadBudget.check(
      ck.tensorNames.map { ($0, ck.tensor($0)!.elementCount) }, last: last, what: path)
    config = cfg
    self.path = path
    let tjson = path + "/tokenizer.json"
    tokenizer = try BPETokenizer(
      tokenizerJSON: tjson, bosID: ck.config["bos_token_id"] as? Int, eosID: ck.config["eos_token_id"] as? Int)
    guard tokenizer.vocabularySize <= cfg.vocabularySize else {
      throw ModelFileError.invalid(
        path: tjson, offset: 0,
        message: "the tokenizer has \(tokenizer.vocabularySize) tokens, the embedding \(cfg.vocabularySize) rows")
    }
    var bs: [DifferentiableGPT2<Float>.Block] = []
    if last >= 0 {
      for l in 0...last {
        func m(_ n: String) throws -> Matrix<Float> { try ck.matrix(name("h.\(l).\(n)")).transposed }
        func v(_ n: String) throws -> [Float] { try ck.floats(name("h.\(l).\(n)")) }
        bs.append(
          DifferentiableGPT2<Float>.Block(
            ln1g: try v("ln_1.weight"), ln1b: try v("ln_1.bias"), ln2g: try v("ln_2.weight"), ln2b: try v("ln_2.bias"),
            qkv: try m("attn.c_attn.weight"), qkvB: try v("attn.c_attn.bias"), attnOut: try m("attn.c_proj.weight"),
            attnOutB: try v("attn.c_proj.bias"), fc: try m("mlp.c_fc.weight"), fcB: try v("mlp.c_fc.bias"),
            proj: try m("mlp.c_proj.weight"), projB: try v("mlp.c_proj.bias")))
        progress(l + 1, last + 1)
      }
    }
    weights = DifferentiableGPT2(
      config: cfg, blocks: bs, wte: try ck.matrix(name("wte.weight")), wpe: try ck.matrix(name("wpe.weight")),
      lnfG: try ck.floats(name("ln_f.weight")), lnfB: try ck.floats(name("ln_f.bias")))
  }

  public var loadedBlocks: Int { blocks.count }
}

extension GPT2Model: LanguageModel {
  public var architecture: String { "gpt2" }
  public var displayName: String? { config.name.flatMap { $0.isEmpty ? nil : $0 } }
  public var width: Int { config.width }
  public var keyWidth: Int { config.mlpWidth }
  public var blockCount: Int { config.blockCount }
  public var contextLength: Int { config.contextLength }
  public var vocabularySize: Int { config.vocabularySize }
  public var editedWeightTemplate: String { "transformer.h.{}.mlp.c_proj" }

  public func forward(_ tokens: [Int], capture: [Int: Set<Capture>], logits: LogitsMode, profile: ForwardProfile?)
    throws -> (logits: Matrix<Float>?, captures: [Int: [Capture: Matrix<Float>]])
  {
    let lastNeeded = try ForwardRequest.check(
      tokens, capture: capture, logits: logits, blocks: config.blockCount, loaded: blocks.count,
      context: config.contextLength, vocabulary: config.vocabularySize)
    let scratch = LlamaKernels.AttentionScratch(
      tokens: tokens.count, group: 1, headDim: config.width / config.heads)
    return ForwardRequest.run(
      tokens: tokens, capture: capture, logits: logits, lastNeeded: lastNeeded, embedded: try weights.embed(tokens)
    ) { l, x in
      weights.fastBlockForward(l, x, scratch: scratch)
    } head: {
      weights.head($0, positions: $1).0
    }
  }

  /// `mlp.c_proj` is stored `d_k x d` (Conv1D, `in x out`); held and handed out as `d x d_k`.
  public func editedWeight(_ layer: Int) throws -> Matrix<Float> {
    guard layer >= 0 && layer < blocks.count else { throw ModelError.notLoaded(layer: layer, loaded: blocks.count) }
    return blocks[layer].proj
  }

  public func setEditedWeight(_ layer: Int, _ w: Matrix<Float>) throws {
    guard layer >= 0 && layer < blocks.count else { throw ModelError.notLoaded(layer: layer, loaded: blocks.count) }
    guard w.rows == config.width, w.columns == config.mlpWidth else {
      throw ModelFileError.shapeMismatch(
        tensor: "transformer.h.\(layer).mlp.c_proj", expected: "\(config.width) x \(config.mlpWidth)",
        got: w.shapeDescription)
    }
    weights.blocks[layer].proj = w
  }

  /// Writes a Hugging Face folder at `path`: the source's files, every tensor as stored, the
  /// `mlp.c_proj` of `editedLayers` as F32 (Conv1D's `d_k x d` again).
  public func save(to path: String, editedLayers: [Int]) throws {
    let ck = try HFCheckpoint(path: self.path)
    let prefix = ck.tensor("transformer.wte.weight") != nil ? "transformer." : ""
    var rep: [String: Matrix<Float>] = [:]
    for l in editedLayers {
      guard l >= 0 && l < blocks.count else { throw ModelError.notLoaded(layer: l, loaded: blocks.count) }
      rep["\(prefix)h.\(l).mlp.c_proj.weight"] = blocks[l].proj.transposed
    }
    try ck.write(to: URL(fileURLWithPath: path), replacing: rep)
  }

  public func residualStreamModel() throws -> ResidualStreamModel {
    guard loadedBlocks == config.blockCount else {
      throw ModelError.notLoaded(layer: config.blockCount - 1, loaded: loadedBlocks)
    }
    return weights
  }

}

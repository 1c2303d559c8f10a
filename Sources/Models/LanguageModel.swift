import Foundation
import Linalg

/// Where a forward pass hands back activations, named by what they are in every architecture.
public enum Capture: String, Sendable, CaseIterable, Codable {
  /// The keys: the input of the MLP's output projection (`d_k x T`); in Llama
  /// `silu(W_gate h) * (W_up h)`, the input of `ffn_down`; in GPT-2 `gelu(W_fc h + b)`.
  case keys
  /// The MLP's output `W0 keys` (`d x T`): what the edited matrix writes.
  case mlpOut = "mlp-out"
  /// The residual stream after the block (`d x T`).
  case hidden
}

/// Which logits a forward pass computes (the output projection is the largest product).
public enum LogitsMode: Sendable {
  case none, last, all
}

/// What every architecture offers the statistics and editing code, so that callers never
/// name a concrete model type: widths, blocks, tokenizer, a forward pass with captures named
/// by what they are in every architecture (``Capture``), the edited weight in the papers'
/// orientation, and a differentiable counterpart for target vectors.
///
/// How to add an architecture: a folder in `Sources/Models` with its config (checked against
/// the tensors before anything runs), weights, forward pass and a ``ResidualStreamModel``, a
/// conformance to this protocol that owns its weight layout (the edited matrix is handed out
/// and taken back as `d_v x d_k`, whatever the file stores), and a case in ``ModelLoader``.
public protocol LanguageModel: AnyObject, Sendable {
  /// The architecture as the file names it ("llama").
  var architecture: String { get }
  /// The model's own name from its metadata, if it has one.
  var displayName: String? { get }
  /// The file the weights came from (its digest keys cached statistics; saving copies it).
  var path: String { get }
  /// Residual width `d` (= `d_v`, the rows of the edited matrix).
  var width: Int { get }
  /// MLP inner width `d_k`: the keys' dimension (the columns of the edited matrix).
  var keyWidth: Int { get }
  var blockCount: Int { get }
  /// Blocks `0..<loadedBlocks` are in memory (a model can be loaded up to a layer).
  var loadedBlocks: Int { get }
  /// The longest window the model was trained for.
  var contextLength: Int { get }
  var vocabularySize: Int { get }
  var tokenizer: BPETokenizer { get }
  /// The edited module's name in the Hugging Face checkpoint, `{}` for the block
  /// (`model.layers.{}.mlp.down_proj`): what the editing frameworks call the layer.
  var editedWeightTemplate: String { get }

  /// The forward pass over `tokens`: the captures asked for, per block, and the logits;
  /// `profile` collects seconds per kernel when given.
  func forward(_ tokens: [Int], capture: [Int: Set<Capture>], logits: LogitsMode, profile: ForwardProfile?) throws
    -> (logits: Matrix<Float>?, captures: [Int: [Capture: Matrix<Float>]])
  /// The edited matrix `W0` of block `layer`, `d_v x d_k` (the MLP output projection).
  func editedWeight(_ layer: Int) throws -> Matrix<Float>
  /// Replaces the edited matrix of block `layer` (`d_v x d_k`).
  func setEditedWeight(_ layer: Int, _ w: Matrix<Float>) throws
  /// Saves the model with the edited matrices of `editedLayers` as a file of its own format.
  func save(to path: String, editedLayers: [Int]) throws
  /// The differentiable counterpart (fp32, sharing the weights) that target vectors use.
  func residualStreamModel() throws -> ResidualStreamModel
  /// A sequence to extend token by token (generation): the Llama family keeps a KV cache, the
  /// default reruns the whole sequence for each new token.
  func tokenStream() throws -> TokenStream
  /// The output the edited matrix should give (`d x n`, one column per edit key) so that the
  /// residual stream after block `layer` changes by `residualChange`, given its current
  /// output `current = W0 k`. Where the matrix writes into the residual stream directly (GPT-2,
  /// GPT-J, Llama) that is `current + residualChange`, MEMIT's assumption; an architecture
  /// with a norm in between (Gemma's post-FFW RMSNorm) maps the change through it.
  func editedOutputTarget(layer: Int, current: Matrix<Double>, residualChange: Matrix<Double>) throws
    -> Matrix<Double>
}

/// A growing sequence and the logits after its last token.
public protocol TokenStream: AnyObject {
  /// The tokens so far.
  var tokens: [Int] { get }
  /// Appends `tokens` and returns the logits after the last one (`vocabulary x 1`).
  func append(_ tokens: [Int]) throws -> Matrix<Float>
}

/// The stream without a cache: every append reruns the whole sequence.
final class RecomputingStream: TokenStream {
  let model: any LanguageModel
  private(set) var tokens: [Int] = []
  init(_ model: any LanguageModel) { self.model = model }
  func append(_ new: [Int]) throws -> Matrix<Float> {
    let r = try model.forward(tokens + new, capture: [:], logits: .last, profile: nil)
    tokens += new
    return r.logits!
  }
}

extension LanguageModel {
  public func tokenStream() throws -> TokenStream { RecomputingStream(self) }

  public func editedOutputTarget(layer: Int, current: Matrix<Double>, residualChange: Matrix<Double>) throws
    -> Matrix<Double>
  {
    current + residualChange
  }
}

/// The part of a model that target vectors differentiate through: hidden states after a
/// block, and from them the logits with a pullback to the hidden states.
public protocol ResidualStreamModel {
  var width: Int { get }
  var blockCount: Int { get }
  /// The residual stream after block `layer` for `tokens` (`width x T`).
  func hidden(after layer: Int, tokens: [Int]) throws -> Matrix<Float>
  /// From the residual stream `x` after block `layer`: the logits at `positions`
  /// (`vocabulary x positions.count`) and the map from their gradient to the gradient at `x`.
  func logits(from x: Matrix<Float>, after layer: Int, positions: [Int]) throws -> (
    logits: Matrix<Float>, pullback: (Matrix<Float>) -> Matrix<Float>
  )
  /// The edited matrix's output of block `layer` and the residual as a function of it, when a
  /// norm stands between the two (Gemma's post-FFW RMSNorm); nil when the matrix writes into
  /// the residual stream directly (the default).
  func editedOutputSite(after layer: Int, tokens: [Int]) throws -> EditedOutputSite?
  /// ``logits(from:after:positions:)`` for several sequences at once, with one pullback for
  /// all their gradients. The default runs them one by one; the Llama family packs them side
  /// by side (one product per weight for all, attention within each sequence).
  func logits(packed xs: [Matrix<Float>], after layer: Int, positions: [[Int]]) throws -> (
    logits: [Matrix<Float>], pullback: ([Matrix<Float>]) -> [Matrix<Float>]
  )
}

/// Where a target vector's change goes when a norm stands between the edited matrix and the
/// residual stream: the matrix's own output `u = W0 k` (`d x T`) of one sequence, and the
/// residual stream after the block as a function of `u`, with the pullback of its gradient.
public struct EditedOutputSite {
  public var output: Matrix<Float>
  public var residual: (Matrix<Float>) -> (Matrix<Float>, (Matrix<Float>) -> Matrix<Float>)
  public init(
    output: Matrix<Float>, residual: @escaping (Matrix<Float>) -> (Matrix<Float>, (Matrix<Float>) -> Matrix<Float>)
  ) {
    self.output = output
    self.residual = residual
  }
}

extension ResidualStreamModel {
  /// nil: the edited matrix writes into the residual stream directly, and target vectors add
  /// their change there (MEMIT's `compute_z`).
  public func editedOutputSite(after layer: Int, tokens: [Int]) throws -> EditedOutputSite? { nil }

  /// One sequence after another.
  public func logits(packed xs: [Matrix<Float>], after layer: Int, positions: [[Int]]) throws -> (
    logits: [Matrix<Float>], pullback: ([Matrix<Float>]) -> [Matrix<Float>]
  ) {
    let each = try zip(xs, positions).map { try logits(from: $0, after: layer, positions: $1) }
    return (each.map(\.logits), { ds in zip(each, ds).map { $0.pullback($1) } })
  }
}

/// Opens a model file by what it holds.
public enum ModelLoader {
  /// The model at `path`: a GGUF file, or a Hugging Face folder (`config.json` with
  /// `model_type`, safetensors weights, `tokenizer.json`); blocks up to `upToLayer`, all by
  /// default. `residency` (default: the environment's `KEV_WEIGHTS`, else `auto`) says
  /// whether blocks are widened to fp32 once or streamed from their stored type; streaming
  /// is implemented for GPT-J and the Llama family (Llama, Mistral, Qwen2, GGUF Llama).
  public static func load(
    path: String, upToLayer: Int? = nil, residency: WeightResidency? = nil,
    progress: (Int, Int) -> Void = { _, _ in }
  ) throws -> any LanguageModel {
    let r = try residency ?? environmentResidency()
    func residentOnly(_ arch: String) throws {
      if r == .streamed {
        throw ModelFileError.unsupportedArchitecture(
          path: path, architecture: arch + " with streamed weights",
          supported: "streamed weights for gptj, llama, mistral, qwen2 (folders) and llama (GGUF); use KEV_WEIGHTS=auto"
        )
      }
    }
    if HFCheckpoint.isFolder(path) {
      let data = FileManager.default.contents(atPath: path + "/config.json") ?? Data()
      let type = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["model_type"] as? String ?? "?"
      switch type {
      case "gpt2":
        try residentOnly(type)
        return try GPT2Model(folder: path, upToLayer: upToLayer, progress: progress)
      case "gptj":
        return try GPTJModel(folder: path, upToLayer: upToLayer, residency: r, progress: progress)
      case "llama", "mistral", "qwen2":
        return try LlamaModel(folder: path, upToLayer: upToLayer, residency: r, progress: progress)
      default:
        throw ModelFileError.unsupportedArchitecture(
          path: path, architecture: type,
          supported: "gpt2, gptj, llama, mistral, qwen2 (Hugging Face folders); llama, gemma3 (GGUF)")
      }
    }
    let file = try GGUFFile(path: path)
    let arch = file.metadata["general.architecture"]?.string ?? "?"
    switch arch {
    case "llama": return try LlamaModel(file: file, upToLayer: upToLayer, residency: r, progress: progress)
    case "gemma3":
      try residentOnly(arch)
      return try Gemma3Model(file: file, upToLayer: upToLayer, progress: progress)
    default:
      throw ModelFileError.unsupportedArchitecture(
        path: path, architecture: arch, supported: LlamaConfig.supportedArchitectures.joined(separator: ", "))
    }
  }

  /// `KEV_WEIGHTS` (auto, resident or streamed), `auto` when unset; another value is refused.
  public static func environmentResidency() throws -> WeightResidency {
    guard let v = ProcessInfo.processInfo.environment["KEV_WEIGHTS"], !v.isEmpty else { return .auto }
    guard let r = WeightResidency(rawValue: v) else {
      throw ModelFileError.io(
        path: "environment variable KEV_WEIGHTS", message: "'\(v)' is not one of auto, resident, streamed")
    }
    return r
  }
}

extension LlamaModel: LanguageModel {
  public var architecture: String { config.architecture }
  public var displayName: String? { config.name }
  public var width: Int { config.width }
  public var keyWidth: Int { config.mlpWidth }
  public var blockCount: Int { config.blockCount }
  public var contextLength: Int { config.contextLength }
  public var vocabularySize: Int { config.vocabularySize }
  public var editedWeightTemplate: String { "model.layers.{}.mlp.down_proj" }

  /// `ffn_down` is stored `d_k x d` (GGUF's `(out, in)` read as is): handed out transposed.
  public func editedWeight(_ layer: Int) throws -> Matrix<Float> {
    guard layer >= 0 && layer < loadedBlocks else { throw ModelError.notLoaded(layer: layer, loaded: loadedBlocks) }
    return block(layer).down.transposed
  }

  public func setEditedWeight(_ layer: Int, _ w: Matrix<Float>) throws {
    try setDown(layer, w.transposed)
  }

  public func residualStreamModel() throws -> ResidualStreamModel { try DifferentiableLlama(self) }

  public func tokenStream() throws -> TokenStream { try CachedStream(self) }
}

extension DifferentiableLlama: ResidualStreamModel where T == Float {
  public var width: Int { config.width }
  public var blockCount: Int { config.blockCount }

  /// The sequences' columns side by side (``LlamaLayers/Packing``): every product and norm
  /// runs once for all of them, attention and RoPE positions per sequence; the logits and
  /// gradients are split back per sequence.
  public func logits(packed xs: [Matrix<Float>], after layer: Int, positions: [[Int]]) throws -> (
    logits: [Matrix<Float>], pullback: ([Matrix<Float>]) -> [Matrix<Float>]
  ) {
    precondition(xs.count == positions.count)
    let packing = LlamaLayers.Packing(lengths: xs.map(\.columns))
    let x = try Matrix(rows: config.width, columns: packing.starts.count, columnMajor: xs.flatMap(\.storage))
    let flat = zip(positions, packing.segments).flatMap { p, seg in p.map { seg.lowerBound + $0 } }
    let after = (layer + 1)..<config.blockCount
    let (y, caches) = forward(after, x, packing: packing)
    let (all, head) = headForward(y, positions: flat)
    var pieces: [Matrix<Float>] = []
    var at = 0
    for p in positions {
      pieces.append(all.submatrix(rows: 0..<all.rows, columns: at..<(at + p.count)))
      at += p.count
    }
    return (
      pieces,
      { ds in
        let dLogits = try! Matrix(rows: all.rows, columns: flat.count, columnMajor: ds.flatMap(\.storage))
        var none: HeadGradients<Float>? = nil
        let dy = headBackward(dLogits, head, grads: &none)
        var noBlocks: [LlamaBlockWeights<Float>]? = nil
        let dx = backward(after, caches, dy, grads: &noBlocks)
        return packing.segments.map { dx.submatrix(rows: 0..<dx.rows, columns: $0) }
      }
    )
  }

  public func hidden(after layer: Int, tokens: [Int]) throws -> Matrix<Float> {
    forward(0..<(layer + 1), try embed(tokens)).0
  }

  public func logits(from x: Matrix<Float>, after layer: Int, positions: [Int]) throws -> (
    logits: Matrix<Float>, pullback: (Matrix<Float>) -> Matrix<Float>
  ) {
    let after = (layer + 1)..<config.blockCount
    let (y, caches) = forward(after, x)
    let (logits, head) = headForward(y, positions: positions)
    return (
      logits,
      { dLogits in
        var none: HeadGradients<Float>? = nil
        let dy = headBackward(dLogits, head, grads: &none)
        var noBlocks: [LlamaBlockWeights<Float>]? = nil
        return backward(after, caches, dy, grads: &noBlocks)
      }
    )
  }
}

/// Probabilities from logits, in fp64, for every architecture.
public enum Logits {
  /// Softmax probabilities of one logits column.
  public static func probabilities(_ logits: Matrix<Float>, column: Int) -> [Double] {
    let col = (0..<logits.rows).map { Double(logits[$0, column]) }
    let m = col.max() ?? 0
    let e = col.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
  }

  /// Log-probabilities of each column (`vocabulary x n`, computed in fp64).
  public static func logSoftmax(_ logits: Matrix<Float>) -> Matrix<Double> { LlamaLayers.logSoftmax(logits) }

  /// `log softmax(logits[:, column])[token]`.
  public static func logProbability(_ logits: Matrix<Float>, column j: Int, token: Int) -> Double {
    var mx = -Double.infinity
    for i in 0..<logits.rows { mx = max(mx, Double(logits[i, j])) }
    var s = 0.0
    for i in 0..<logits.rows { s += exp(Double(logits[i, j]) - mx) }
    return Double(logits[token, j]) - mx - log(s)
  }
}

extension LanguageModel {
  /// The forward pass with the defaults: no captures, logits at every position, no profile.
  public func forward(
    _ tokens: [Int], capture: [Int: Set<Capture>] = [:], logits: LogitsMode = .all
  ) throws -> (logits: Matrix<Float>?, captures: [Int: [Capture: Matrix<Float>]]) {
    try forward(tokens, capture: capture, logits: logits, profile: nil)
  }
}

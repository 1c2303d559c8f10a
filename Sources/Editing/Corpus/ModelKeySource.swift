import Foundation
import Linalg
import Models

/// Streams real keys (or other captured activations) of a model at one layer over a corpus:
/// the corpus is cut into windows (``WindowCutter``; by default documents in a seeded order
/// packed into windows of `context` tokens, separated by a blank line), each window runs
/// through blocks 0...layer, and every position's vector is one key.
public final class ModelKeySource {
  public let model: any LanguageModel
  public let layer: Int
  public let what: Capture
  /// Tokens per window unless stated (the statistics cache records it).
  public static let defaultContext = 256
  public let corpus: TextCorpus
  public let windowing: Windowing
  public var context: Int { windowing.context }
  public var seed: UInt64 { windowing.seed }
  public private(set) var tokensSeen = 0
  public private(set) var windows = 0
  private let cutter: WindowCutter
  private var buffered: Matrix<Float>? = nil
  private var bufferedUsed = 0

  /// Packed windows of `context` tokens (default: 256, or the model's context length when that
  /// is shorter).
  public convenience init(
    model: any LanguageModel, layer: Int, what: Capture = .keys, corpus: TextCorpus, context: Int? = nil,
    seed: UInt64 = 1
  ) throws {
    try self.init(
      model: model, layer: layer, what: what, corpus: corpus,
      windowing: Windowing(context: context ?? min(Self.defaultContext, model.contextLength), seed: seed))
  }

  public init(model: any LanguageModel, layer: Int, what: Capture = .keys, corpus: TextCorpus, windowing: Windowing)
    throws
  {
    let context = windowing.context
    guard layer >= 0 && layer < model.blockCount else {
      throw ModelError.layerOutOfRange(layer: layer, blocks: model.blockCount)
    }
    guard layer < model.loadedBlocks else { throw ModelError.notLoaded(layer: layer, loaded: model.loadedBlocks) }
    guard context >= 1 else { throw ModelError.emptyInput }
    guard context <= model.contextLength else {
      throw ModelError.contextTooLong(context: context, limit: model.contextLength)
    }
    self.model = model
    self.layer = layer
    self.what = what
    self.corpus = corpus
    self.windowing = windowing
    cutter = try WindowCutter(corpus: corpus, tokenizer: model.tokenizer, windowing: windowing)
  }

  public var dimension: Int { what == .keys ? model.keyWidth : model.width }

  /// One line saying where the keys come from.
  public var description: String {
    "real \(what.rawValue) of blk.\(layer) of \(model.displayName ?? model.path) on \(corpus.name), \(windowing.layout == .packed ? "" : windowing.layout.rawValue + " ")windows of \(context) tokens, \(tokensSeen) tokens in \(windows) windows so far (seed \(seed))"
  }

  /// The next `n` vectors, `dimension x n`. Throws when the corpus runs out.
  public func next(_ n: Int) throws -> Matrix<Float> {
    let d = dimension
    var out = Matrix<Float>(rows: d, columns: n)
    var filled = 0
    while filled < n {
      if let b = buffered, bufferedUsed < b.columns {
        let take = min(n - filled, b.columns - bufferedUsed)
        b.storage.withUnsafeBufferPointer { bp in
          out.storage.withUnsafeMutableBufferPointer { op in
            for k in 0..<(take * d) { op[filled * d + k] = bp[bufferedUsed * d + k] }
          }
        }
        filled += take
        bufferedUsed += take
        continue
      }
      let window = try nextWindow()
      let r = try model.forward(window, capture: [layer: [what]], logits: .none)
      buffered = r.captures[layer]?[what]
      bufferedUsed = 0
      tokensSeen += window.count
      windows += 1
    }
    return out
  }

  /// The next window's vectors at several layers at once (`dimension x window` each): what
  /// a stream of each layer alone would give, for one forward pass. Use on a fresh source (it
  /// does not see the single-layer buffer).
  public func nextWindow(capturing layers: [Int]) throws -> [Int: Matrix<Float>] {
    for l in layers where l < 0 || l >= model.loadedBlocks {
      throw ModelError.notLoaded(layer: l, loaded: model.loadedBlocks)
    }
    let window = try nextWindow()
    let r = try model.forward(
      window, capture: Dictionary(uniqueKeysWithValues: layers.map { ($0, Set([what])) }), logits: .none)
    tokensSeen += window.count
    windows += 1
    return r.captures.compactMapValues { $0[what] }
  }

  private func nextWindow() throws -> [Int] { try cutter.next() }
}

import Foundation
import Models

/// How a corpus is cut into the windows that run through the model (every position of a
/// window gives one key).
public enum WindowLayout: String, CaseIterable, Codable, Sendable {
  /// Documents in a seeded order, joined by a blank line and packed into windows of
  /// `context` tokens: windows cross document boundaries (this suite's default).
  case packed
  /// Each document on its own, split into consecutive windows of at most `context` tokens:
  /// no window crosses a document boundary (MEMIT's `layer_stats` truncates instead).
  case documents
  /// Windows of `context` tokens starting at seeded random offsets of the packed token
  /// stream (uniform, with replacement): random positions instead of a contiguous tiling.
  case random
}

/// The window settings of a key stream, recorded with every statistics file.
public struct Windowing: Codable, Equatable, Sendable {
  /// Tokens per window (at most the model's context length).
  public var context: Int
  public var layout: WindowLayout
  /// Seed of the document order (and of the offsets of `random`).
  public var seed: UInt64

  public init(context: Int = ModelKeySource.defaultContext, layout: WindowLayout = .packed, seed: UInt64 = 1) {
    self.context = context
    self.layout = layout
    self.seed = seed
  }

  /// In words, for identities and reports. The packed default keeps the sentence cached
  /// statistics were keyed by before the other layouts existed.
  public var description: String {
    switch layout {
    case .packed: return "documents shuffled with seed \(seed), packed into windows of \(context) tokens"
    case .documents:
      return
        "documents shuffled with seed \(seed), each split into windows of at most \(context) tokens (no window crosses a document)"
    case .random:
      return
        "windows of \(context) tokens at random offsets (seed \(seed)) of the packed documents (shuffled with seed \(seed))"
    }
  }
}

/// Cuts a corpus into windows of token ids, deterministically: the same corpus, tokenizer and
/// settings give the same windows in the same order, which is what resuming an interrupted
/// run and splitting windows across processes rely on. Cutting needs the tokenizer only, so
/// skipping windows (``skip(_:)``) costs no forward pass. A running SHA-256 of the windows
/// (``digest``) identifies the exact token stream used.
public final class WindowCutter {
  public let windowing: Windowing
  public let corpusName: String
  private let tokenizer: BPETokenizer
  private let order: [String]
  private let separator: [Int]
  private var nextDocument = 0
  private var pending: [Int] = []
  /// The whole packed stream (layout `random` only).
  private var stream: [Int32] = []
  private var randomState: UInt64
  /// Windows and tokens cut so far.
  public private(set) var windowsCut = 0
  public private(set) var tokensCut = 0
  private var hash = SHA256()

  public init(corpus: TextCorpus, tokenizer: BPETokenizer, windowing: Windowing) throws {
    guard windowing.context >= 1 else { throw ModelError.emptyInput }
    self.windowing = windowing
    self.corpusName = corpus.name
    self.tokenizer = tokenizer
    order = corpus.shuffled(seed: windowing.seed)
    separator = tokenizer.encodeContinuation("\n\n")
    randomState = windowing.seed ^ 0xD1B5_4A32_D192_ED03
    if windowing.layout == .random {
      var s: [Int32] = []
      for (i, d) in order.enumerated() {
        if i > 0 { s += separator.map { Int32($0) } }
        s += tokenizer.encode(d).map { Int32($0) }
      }
      guard !s.isEmpty else { throw corpusEnded() }
      stream = s
    }
  }

  /// SHA-256 of every window cut so far (each as its length and its token ids, 32-bit
  /// little-endian).
  public var digest: String { hash.hexDigest() }

  /// The next window's token ids. Throws when the corpus has no more (never for `random`).
  public func next() throws -> [Int] {
    let w: [Int]
    switch windowing.layout {
    case .packed: w = try nextPacked()
    case .documents: w = try nextWithinDocument()
    case .random: w = nextRandom()
    }
    windowsCut += 1
    tokensCut += w.count
    withUnsafeBytes(of: UInt32(w.count).littleEndian) { hash.update($0) }
    let ids = w.map { UInt32(truncatingIfNeeded: $0).littleEndian }
    ids.withUnsafeBytes { hash.update($0) }
    return w
  }

  /// Cuts and drops `n` windows (no forward pass).
  public func skip(_ n: Int) throws { for _ in 0..<n { _ = try next() } }

  private func corpusEnded() -> ModelFileError {
    .invalid(
      path: corpusName, offset: 0,
      message:
        "the corpus ran out after \(tokensCut) tokens in \(windowsCut) windows; use a larger corpus or fewer keys (smaller d_m)"
    )
  }

  private func nextPacked() throws -> [Int] {
    while pending.count < windowing.context && nextDocument < order.count {
      if !pending.isEmpty { pending += separator }
      pending += tokenizer.encode(order[nextDocument])
      nextDocument += 1
    }
    guard !pending.isEmpty else { throw corpusEnded() }
    let w = Array(pending.prefix(windowing.context))
    pending.removeFirst(w.count)
    return w
  }

  private func nextWithinDocument() throws -> [Int] {
    while pending.isEmpty {
      guard nextDocument < order.count else { throw corpusEnded() }
      pending = tokenizer.encode(order[nextDocument])
      nextDocument += 1
    }
    let w = Array(pending.prefix(windowing.context))
    pending.removeFirst(w.count)
    return w
  }

  private func nextRandom() -> [Int] {
    let c = min(windowing.context, stream.count)
    let starts = UInt64(stream.count - c + 1)
    randomState = randomState &+ 0x9E37_79B9_7F4A_7C15
    var z = randomState
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    let start = Int(z % starts)
    return stream[start..<(start + c)].map { Int($0) }
  }
}

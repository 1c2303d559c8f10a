import Foundation
import Linalg

/// Keys as they arrive: `d_k x n`, in the precision they were computed in.
public enum KeyChunk: Sendable {
  case fp32(Matrix<Float>)
  case fp64(Matrix<Double>)

  public var columns: Int {
    switch self {
    case .fp32(let m): return m.columns
    case .fp64(let m): return m.columns
    }
  }

  /// The keys in fp64 (exact widening).
  public var double: Matrix<Double> {
    switch self {
    case .fp32(let m): return m.converted(to: Double.self)
    case .fp64(let m): return m
    }
  }
}

/// Anything that streams keys, one column per key: a synthetic profile, a real model over a
/// corpus, a user's key matrix or key file. The one abstraction every study accumulates
/// from (``SecondMomentAccumulator/accumulate(from:until:chunk:progress:timing:)``).
public protocol KeyStream: AnyObject {
  /// Key width `d_k`.
  var dimension: Int { get }
  /// Where the keys come from, for every output (generator and seed, file, model and corpus).
  var streamDescription: String { get }
  /// A short identity of the source for statistics files and tables.
  var sourceName: String { get }
  /// "fp32" or "fp64": the precision the keys are computed in (sums are always fp64).
  var keyPrecision: String { get }
  /// The corpus of real keys (nil for synthetic or user keys) and the tokens run so far.
  var corpusName: String? { get }
  var tokensRun: Int? { get }
  /// The keys there are in all, for finite sources (a file's columns); nil for generators.
  var available: Int? { get }
  /// What producing a chunk costs, named for phase timings ("keys: model forward (fp32)").
  var productionPhase: String { get }
  /// The next `n` keys (`d_k x n`); a finite source throws when fewer remain.
  func nextKeys(_ n: Int) throws -> KeyChunk
}

extension KeyStream {
  public var corpusName: String? { nil }
  public var tokensRun: Int? { nil }
  public var available: Int? { nil }
}

extension SyntheticKeySource: KeyStream {
  public var dimension: Int { profile.keyWidth }
  public var streamDescription: String { descriptor }
  public var sourceName: String { "synthetic:\(profile.name)(d=\(profile.width),d_k=\(profile.keyWidth),seed=\(seed))" }
  public var keyPrecision: String { "fp32" }
  public var productionPhase: String { "keys: generate (MLP forward)" }
  public func nextKeys(_ n: Int) throws -> KeyChunk { .fp32(next(n)) }
}

extension ModelKeySource: KeyStream {
  public var streamDescription: String { description }
  public var sourceName: String { "\(model.displayName ?? model.path) layer \(layer)" }
  public var keyPrecision: String { "fp32" }
  public var corpusName: String? { corpus.name }
  public var tokensRun: Int? { tokensSeen }
  public var productionPhase: String { "keys: model forward (fp32)" }
  public func nextKeys(_ n: Int) throws -> KeyChunk { .fp32(try next(n)) }
}

/// Columns `range` of a key matrix in memory, in order (fp64 as given).
public final class MatrixKeyStream: KeyStream {
  public let keys: Matrix<Double>
  public let name: String
  public let range: Range<Int>
  private var position: Int

  public init(_ keys: Matrix<Double>, name: String, columns: Range<Int>? = nil) {
    self.keys = keys
    self.name = name
    self.range = columns ?? 0..<keys.columns
    self.position = range.lowerBound
  }

  public var dimension: Int { keys.rows }
  public var streamDescription: String { "user keys from \(name) (fp64; \(keys.columns) columns)" }
  public var sourceName: String { "keys:\(name)" }
  public var keyPrecision: String { "fp64" }
  public var available: Int? { keys.columns }
  public var productionPhase: String { "keys: copy columns" }

  public func nextKeys(_ n: Int) throws -> KeyChunk {
    let r = try takeColumns(n, from: range, at: &position, of: keys.columns, name: name)
    return .fp64(keys.submatrix(rows: 0..<keys.rows, columns: r))
  }
}

/// Keys already in hand (one window of a forward pass that captured several layers), handed
/// out in order; fp32 as computed.
public final class BufferedKeyStream: KeyStream {
  private var keys: Matrix<Float>
  private var position = 0
  public let sourceName: String

  public init(_ keys: Matrix<Float>, sourceName: String) {
    self.keys = keys
    self.sourceName = sourceName
  }

  public var dimension: Int { keys.rows }
  public var streamDescription: String { "\(keys.columns) keys of \(sourceName) in hand" }
  public var keyPrecision: String { "fp32" }
  public var available: Int? { keys.columns }
  public var productionPhase: String { "keys: in hand" }

  public func nextKeys(_ n: Int) throws -> KeyChunk {
    guard position + n <= keys.columns else {
      throw EditError.badInput("\(sourceName): \(n) keys asked, \(keys.columns - position) left")
    }
    defer { position += n }
    if position == 0 && n == keys.columns { return .fp32(keys) }
    return .fp32(keys.submatrix(rows: 0..<keys.rows, columns: position..<(position + n)))
  }
}

/// Columns `range` of a `.npy` key file (`d_k x N`), read chunk by chunk when asked for, so
/// memory stays at one chunk however long the file (fp64; fp32 files are widened exactly).
public final class NPYKeyStream: KeyStream {
  public let url: URL
  public let dimension: Int
  public let columnCount: Int
  public let range: Range<Int>
  private var position: Int

  /// Reads the header (shape and dtype checked against the file's size); refuses anything
  /// but a 2-D array.
  public init(url: URL, columns: Range<Int>? = nil) throws {
    let h = try NPY.header(of: url)
    guard h.shape.count == 2, h.shape[0] >= 1 else {
      throw EditError.badInput(
        "\(url.path): keys must be a 2-D array d_k x N (one key per column), got shape \(h.shape)")
    }
    self.url = url
    dimension = h.shape[0]
    columnCount = h.shape[1]
    range = columns ?? 0..<columnCount
    guard range.lowerBound >= 0, range.upperBound <= columnCount else {
      throw EditError.badInput(
        "\(url.path) has \(columnCount) keys (columns); columns \(range.lowerBound)..<\(range.upperBound) asked for")
    }
    position = range.lowerBound
  }

  public var streamDescription: String {
    "user keys from \(url.path) (\(columnCount) columns, streamed in chunks, fp64)"
  }
  public var sourceName: String { "keys:\(url.path)" }
  public var keyPrecision: String { "fp64" }
  public var available: Int? { columnCount }
  public var productionPhase: String { "keys: read the file" }

  public func nextKeys(_ n: Int) throws -> KeyChunk {
    let r = try takeColumns(n, from: range, at: &position, of: columnCount, name: url.path)
    return .fp64(try NPY.read(url, as: Double.self, requireFinite: true, columns: r))
  }
}

/// The next `n` columns of a finite source read in order within `range`, advancing `position`;
/// refuses to run past the range, naming the source.
func takeColumns(_ n: Int, from range: Range<Int>, at position: inout Int, of total: Int, name: String) throws
  -> Range<Int>
{
  guard position + n <= range.upperBound else {
    throw EditError.badInput(
      "\(name) has \(total) keys (columns); \(position + n - range.lowerBound) asked of columns \(range.lowerBound)..<\(range.upperBound)"
    )
  }
  defer { position += n }
  return position..<(position + n)
}

extension SecondMomentAccumulator {
  /// The one key-accumulation loop: adds keys from `stream` in chunks of at most `chunk`
  /// until `count` keys are in. `progress(done, count)` after each chunk; `timing(phase,
  /// seconds)` gets the time of producing (``KeyStream/productionPhase``) and of adding
  /// ("keys: accumulate (dsyrk, fp64)") each chunk.
  ///
  /// `also`, when given, receives every chunk after it was added (a second sum in another
  /// precision), timed as its own phase `also.phase`.
  public mutating func accumulate(
    from stream: KeyStream, until count: Int, chunk: Int = 2048, progress: (Int, Int) -> Void = { _, _ in },
    timing: (String, Double) -> Void = { _, _ in }, also: (phase: String, add: (KeyChunk) throws -> Void)? = nil
  ) throws {
    precondition(chunk >= 1)
    while self.count < count {
      let n = Swift.min(chunk, count - self.count)
      let t0 = Date()
      let keys = try stream.nextKeys(n)
      let t1 = Date()
      switch keys {
      case .fp32(let k): try add(keys: k)
      case .fp64(let k): try add(keys: k)
      }
      timing(stream.productionPhase, t1.timeIntervalSince(t0))
      timing("keys: accumulate (dsyrk, fp64)", Date().timeIntervalSince(t1))
      if let also {
        let t2 = Date()
        try also.add(keys)
        timing(also.phase, Date().timeIntervalSince(t2))
      }
      progress(self.count, count)
    }
  }
}

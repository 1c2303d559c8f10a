import Foundation
import Linalg

/// What a set of key statistics belongs to. Loading statistics for another model, layer or
/// width is an error, never a silent reuse.
public struct StatsIdentity: Codable, Equatable, Sendable {
  /// The model: a profile name with its seed and scale (synthetic), or a hash of the weights.
  public var model: String
  /// The edited layer (0-based, as in the model file).
  public var layer: Int
  /// Key dimension `d_k`.
  public var dk: Int
  /// The text the keys came from (or the synthetic generator).
  public var corpus: String
  /// Precision in which the keys were computed ("fp32" or "fp64"); sums are always fp64.
  public var keyPrecision: String
  /// How the keys were drawn (window length, order seed, windowing), when it matters.
  public var settings: String?

  public init(model: String, layer: Int, dk: Int, corpus: String, keyPrecision: String, settings: String? = nil) {
    self.model = model
    self.layer = layer
    self.dk = dk
    self.corpus = corpus
    self.keyPrecision = keyPrecision
    self.settings = settings
  }

  enum CodingKeys: String, CodingKey {
    case model, layer, dk = "d_k", corpus, keyPrecision = "key_precision", settings
  }
}

/// Errors of the statistics store.
public enum StatsError: Error, CustomStringConvertible, Equatable, Sendable {
  case mismatch(field: String, expected: String, found: String)
  case badKeys(String)
  case corrupt(path: String, detail: String)
  case io(path: String, detail: String)
  /// The sums would not fit in memory (the estimate in words); nothing was allocated.
  case tooLarge(String)

  public var description: String {
    switch self {
    case .mismatch(let f, let e, let g):
      return "statistics belong to another \(f): expected \(e), found \(g); recompute them for this model/layer"
    case .badKeys(let s): return "keys: \(s)"
    case .corrupt(let p, let d): return "\(p): corrupt statistics file: \(d)"
    case .io(let p, let d): return "\(p): \(d)"
    case .tooLarge(let s): return s
    }
  }
}

/// A streaming accumulator of the second moment of keys: `S = Σ k kᵀ` in fp64 and the count
/// `P`, so that `C0 = S / P` (the mean second moment MEMIT uses). Keys arrive in chunks
/// (`d_k x n`, fp32 or fp64) and are never stored; two accumulators over disjoint shards
/// merge by adding their sums.
public struct SecondMomentAccumulator: Sendable {
  public let identity: StatsIdentity
  /// `Σ k kᵀ`, both triangles.
  public private(set) var sum: Matrix<Double>
  /// Number of keys (tokens) accumulated, `P`.
  public private(set) var count: Int
  /// `Σ ||k||⁴` in fp64: with the sum it gives the spread of the rank-one terms `k kᵀ` around
  /// their mean, `Σ ||k kᵀ - C0||_F² = Σ ||k||⁴ - P ||C0||_F²`, which Ledoit-Wolf shrinkage
  /// needs (``CovarianceEstimator``). Nil when unknown: read from a file that does not store it
  /// (a framework `.npz`, or a statistics file written before it was recorded).
  public private(set) var normFourthSum: Double?

  public var dk: Int { identity.dk }

  public init(identity: StatsIdentity) {
    self.identity = identity
    self.sum = Matrix(rows: identity.dk, columns: identity.dk)
    self.count = 0
    self.normFourthSum = 0
  }

  /// Adds the columns of `keys` (`d_k x n`). Rejects NaN/Inf with the index of the first one.
  public mutating func add<T: LinalgScalar>(keys: Matrix<T>) throws(StatsError) {
    guard keys.rows == dk else { throw .badKeys("expected \(dk) rows (d_k), got \(keys.shapeDescription)") }
    if keys.columns == 0 { return }
    let wide: Matrix<Double>
    do {
      try keys.checkFinite("keys")
      wide = T.self == Double.self ? keys as! Matrix<Double> : keys.converted(to: Double.self)
      try sum.addGram(of: wide)
    } catch { throw .badKeys(error.description) }
    count += keys.columns
    if normFourthSum != nil {
      var s4 = 0.0
      // ||k||^2 per column by BLAS ddot (vectorised; this is on the statistics path).
      wide.storage.withUnsafeBufferPointer { p in
        let n = Int32(dk)
        for j in 0..<wide.columns {
          let col = p.baseAddress! + j * dk
          let s2 = Double.dot(n, col, 1, col, 1)
          s4 += s2 * s2
        }
      }
      normFourthSum! += s4
    }
  }

  /// Adds another shard's sums (same identity, except the corpus may differ per shard only
  /// if both say so explicitly: it must match here).
  public mutating func merge(_ other: SecondMomentAccumulator) throws(StatsError) {
    try Self.check(other.identity, against: identity)
    sum = sum + other.sum
    count += other.count
    normFourthSum = normFourthSum.flatMap { a in other.normFourthSum.map { a + $0 } }
  }

  /// Hands the sums (both triangles, column-major, `d_k^2` values), the count and `Σ ||k||⁴`
  /// (a one-element buffer) to `body`, which may change them in place: how another process's
  /// sums are added in (an MPI reduction into these buffers). Every rank of one run records
  /// `Σ ||k||⁴` (they all start from an empty accumulator).
  public mutating func withMutableSums(
    _ body: (UnsafeMutableBufferPointer<Double>, inout Int, UnsafeMutableBufferPointer<Double>) throws -> Void
  ) rethrows {
    var c = count
    var s4 = [normFourthSum ?? .nan]
    try sum.storage.withUnsafeMutableBufferPointer { p in
      try s4.withUnsafeMutableBufferPointer { try body(p, &c, $0) }
    }
    count = c
    normFourthSum = s4[0].isNaN ? nil : s4[0]
  }

  /// `C0 = Σ k kᵀ / P` (the mean second moment).
  public func mean() throws(StatsError) -> Matrix<Double> {
    guard count > 0 else { throw .badKeys("no keys accumulated") }
    return (1 / Double(count)) * sum
  }

  /// Coordinates whose key component was zero for every token (zero row and column of
  /// `C0`): these alone make `C0` singular, the known cause of MEMIT's "input matrix is
  /// singular".
  public var deadCoordinates: [Int] { (0..<dk).filter { sum[$0, $0] == 0 } }

  static func check(_ found: StatsIdentity, against expected: StatsIdentity) throws(StatsError) {
    if found.model != expected.model { throw .mismatch(field: "model", expected: expected.model, found: found.model) }
    if found.layer != expected.layer {
      throw .mismatch(field: "layer", expected: "\(expected.layer)", found: "\(found.layer)")
    }
    if found.dk != expected.dk { throw .mismatch(field: "width d_k", expected: "\(expected.dk)", found: "\(found.dk)") }
    if found.corpus != expected.corpus {
      throw .mismatch(field: "corpus", expected: expected.corpus, found: found.corpus)
    }
    if found.keyPrecision != expected.keyPrecision {
      throw .mismatch(field: "key precision", expected: expected.keyPrecision, found: found.keyPrecision)
    }
    if found.settings != expected.settings {
      throw .mismatch(field: "settings", expected: expected.settings ?? "none", found: found.settings ?? "none")
    }
  }
}

// MARK: - File format

/// The statistics file: `KEVSTAT1`, a little-endian `UInt32` header length, a JSON header
/// (format version, identity, token count, checksum), then the packed lower triangle of
/// `Σ k kᵀ` (column by column, `d_k (d_k + 1) / 2` little-endian fp64). The checksum is
/// FNV-1a (64-bit) over the data's 8-byte words. Written atomically (temporary file + rename).
extension SecondMomentAccumulator {
  public static let formatVersion = 1
  static let magic = Array("KEVSTAT1".utf8)

  struct Header: Codable {
    var formatVersion: Int
    var identity: StatsIdentity
    var tokenCount: Int
    var checksum: String
    /// `Σ ||k||⁴` (absent in files written before it was recorded; optional, format 1 still).
    var normFourthSum: Double?
    enum CodingKeys: String, CodingKey {
      case formatVersion = "format_version", identity, tokenCount = "token_count", checksum,
        normFourthSum = "sum_norm4"
    }
  }

  static func fnv1a(_ words: UnsafeBufferPointer<UInt64>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for w in words { h = (h ^ w) &* 0x0000_0100_0000_01b3 }
    return h
  }

  public func write(to url: URL) throws(StatsError) {
    let n = dk
    var packed = [UInt64]()
    packed.reserveCapacity(n * (n + 1) / 2)
    for j in 0..<n { for i in j..<n { packed.append(sum[i, j].bitPattern.littleEndian) } }
    let checksum = packed.withUnsafeBufferPointer { Self.fnv1a($0) }
    let header = Header(
      formatVersion: Self.formatVersion, identity: identity, tokenCount: count, checksum: String(checksum, radix: 16),
      normFourthSum: normFourthSum)
    var data = Data(Self.magic)
    let json: Data
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]  // the same statistics give the same bytes
    do { json = try encoder.encode(header) } catch { throw .io(path: url.path, detail: "\(error)") }
    withUnsafeBytes(of: UInt32(json.count).littleEndian) { data.append(contentsOf: $0) }
    data.append(json)
    packed.withUnsafeBytes { data.append(contentsOf: $0) }
    do { try AtomicFile.write(data, to: url) } catch {
      throw .io(path: url.path, detail: "\(error)")
    }
  }

  /// Reads statistics and checks that they belong to `expected` (when given).
  public static func read(from url: URL, expecting expected: StatsIdentity? = nil) throws(StatsError)
    -> SecondMomentAccumulator
  {
    let data: Data
    do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
      throw .io(path: url.path, detail: "cannot read: \(error.localizedDescription)")
    }
    let p = url.path
    guard data.count >= 12, Array(data.prefix(8)) == magic else {
      throw .corrupt(path: p, detail: "not a statistics file (bad magic)")
    }
    let hlen = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
    guard hlen > 0, 12 + hlen <= data.count else {
      throw .corrupt(path: p, detail: "header length \(hlen) exceeds the file (\(data.count) bytes)")
    }
    let header: Header
    do { header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 12..<(12 + hlen))) } catch {
      throw .corrupt(path: p, detail: "unreadable header: \(error)")
    }
    guard header.formatVersion == formatVersion else {
      throw .corrupt(path: p, detail: "format version \(header.formatVersion), this build reads \(formatVersion)")
    }
    let n = header.identity.dk
    guard n > 0, n <= 1 << 17, header.tokenCount >= 0 else {
      throw .corrupt(path: p, detail: "implausible d_k \(n) or token count")
    }
    let words = n * (n + 1) / 2
    guard data.count - 12 - hlen == words * 8 else {
      throw .corrupt(
        path: p, detail: "data has \(data.count - 12 - hlen) bytes, d_k = \(n) needs \(words * 8) (truncated?)")
    }
    var packed = [UInt64](repeating: 0, count: words)
    _ = packed.withUnsafeMutableBytes { data.copyBytes(to: $0, from: (12 + hlen)..<data.count) }
    let checksum = packed.withUnsafeBufferPointer { fnv1a($0) }
    guard String(checksum, radix: 16) == header.checksum else {
      throw .corrupt(path: p, detail: "checksum mismatch (file damaged)")
    }
    if let expected { try check(header.identity, against: expected) }
    var acc = SecondMomentAccumulator(identity: header.identity)
    var k = 0
    for j in 0..<n {
      for i in j..<n {
        let v = Double(bitPattern: UInt64(littleEndian: packed[k]))
        acc.sum[i, j] = v
        acc.sum[j, i] = v
        k += 1
      }
    }
    acc.count = header.tokenCount
    if let s4 = header.normFourthSum, !(s4.isFinite && s4 >= 0) {
      throw .corrupt(path: p, detail: "sum of ||k||^4 is \(s4), must be finite and >= 0")
    }
    acc.normFourthSum = header.normFourthSum
    return acc
  }
}

import Foundation
import Linalg

/// Second-moment statistics in the format of MEMIT's `rome/layer_stats.py` (also loaded by
/// EasyEdit and AlphaEdit): an `.npz` with `mom2.mom2`, the running *sum* of `k kᵀ` (uncentred,
/// `d_k x d_k`, float32 by default - the sum itself was accumulated in that precision),
/// `mom2.count` (tokens), `mom2.constructor` (ignored) and `sample_size` (texts; optional here).
/// The editors use `mom2.mom2 / mom2.count`.
public struct FrameworkStatistics: Sendable {
  /// `Σ k kᵀ` as stored, widened to fp64.
  public var sum: Matrix<Double>
  public var count: Int
  public var sampleSize: Int?
  /// "float32" or "float64": the precision the file holds (and the sums were accumulated in).
  public var precision: String

  public var dk: Int { sum.rows }

  public init(sum: Matrix<Double>, count: Int, sampleSize: Int?, precision: String) {
    self.sum = sum
    self.count = count
    self.sampleSize = sampleSize
    self.precision = precision
  }

  /// The statistics of an accumulator (its fp64 sums), to be written in `precision`.
  public init(_ acc: SecondMomentAccumulator, sampleSize: Int?, precision: String = "float32") {
    self.init(sum: acc.sum, count: acc.count, sampleSize: sampleSize, precision: precision)
  }

  /// Where `layer_stats` looks for the file: `{model}/wikipedia_stats/{layer}_{precision}_mom2_{sample_size}.npz`
  /// under the stats directory (`layer` is the edited module's name, `model.layers.4.mlp.down_proj`).
  public static func relativePath(model: String, layer: String, precision: String, sampleSize: Int) -> String {
    "\(model)/wikipedia_stats/\(layer)_\(precision)_mom2_\(sampleSize).npz"
  }

  /// Writes the file `layer_stats.py` loads unchanged (numpy.savez layout; `mom2.mom2` in
  /// `precision`, rounded once from the fp64 sums), atomically.
  public func write(to url: URL) throws {
    guard precision == "float32" || precision == "float64" else {
      throw EditError.badInput("precision must be float32 or float64, got \(precision)")
    }
    try FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    var members: [NPZWriter.Member] = [
      .string("mom2.constructor", "util.runningstats.SecondMoment()"),
      .int64("mom2.count", count),
      .matrix("mom2.mom2", sum, float32: precision == "float32"),
    ]
    if let sampleSize { members.append(.int64("sample_size", sampleSize)) }
    try NPZWriter.write(members, to: url)
  }

  /// Reads and checks a statistics file: square, finite sum, count > 0.
  public init(url: URL) throws {
    let npz = try NPZArchive(url: url)
    // The member is inflated and CRC-checked once, then its header and data are read from it.
    let raw = try npz.data("mom2.mom2")
    let member = "\(url.lastPathComponent)/mom2.mom2.npy"
    precision = try NPY.header(data: raw, name: member).dtype.hasSuffix("f4") ? "float32" : "float64"
    sum = try NPY.readArray(data: raw, name: member, as: Double.self, requireFinite: true)
    guard sum.rows == sum.columns, sum.rows >= 1 else {
      throw EditError.badInput("\(url.lastPathComponent): mom2.mom2 must be d_k x d_k, got \(sum.shapeDescription)")
    }
    count = try npz.integer("mom2.count")
    guard count >= 1 else { throw EditError.badInput("\(url.lastPathComponent): mom2.count = \(count) must be >= 1") }
    sampleSize = npz.names.contains("sample_size") ? try npz.integer("sample_size") : nil
  }

  /// `C0 = mom2 / count`, the mean second moment every editor uses (the same division, so the
  /// same fp64 numbers as `mom2.astype(float64) / count` in numpy).
  public func mean() -> Matrix<Double> {
    let c = Double(count)
    return Matrix(rows: sum.rows, columns: sum.columns) { i, j in sum[i, j] / c }
  }

  /// The unit roundoff of the stored precision (what rounding can explain in the file).
  public var unitRoundoff: Double { precision == "float32" ? Double(Float.ulpOfOne) / 2 : Double.ulpOfOne / 2 }
}

import Foundation
import Linalg

/// Everything `verify linalg` reports about one matrix, in one precision.
///
/// Routes: the singular values (`?gesdd`) give rank, 2-norm condition, extreme singular
/// values, effective and stable rank. For a square matrix the cheap estimate comes from a
/// factorization: Cholesky + `?pocon` when the matrix is symmetric and Cholesky succeeds,
/// otherwise LU + `?gecon`. Whether Cholesky succeeds is recorded in fp32 and fp64
/// independently of the working precision, because "invertible" is a statement about a
/// precision.
public struct MatrixAnalysis: Codable, Sendable {
  public var source: String
  public var rows: Int
  public var columns: Int
  public var precision: String
  public var rank: Int
  public var tolerance: Double
  /// How the tolerance was chosen, in words.
  public var toleranceRule: String
  public var sigmaMax: Double
  public var sigmaMin: Double
  /// `sigma_max / sigma_min`; `nil` in JSON when infinite (sigma_min = 0).
  public var cond: Double?
  /// Reciprocal 1-norm condition estimate; `nil` for non-square matrices.
  public var rcondEstimate: Double?
  /// Which LAPACK route produced ``rcondEstimate``.
  public var rcondRoute: String?
  public var effectiveRank: Double
  public var stableRank: Double
  public var zeroRows: Int
  public var zeroColumns: Int
  public var symmetric: Bool
  /// Cholesky outcome per precision for symmetric matrices: "ok" or "fails at pivot k".
  public var choleskyFp32: String?
  public var choleskyFp64: String?
  public var seconds: Double

  enum CodingKeys: String, CodingKey {
    case source, rows, columns, precision, rank, tolerance
    case toleranceRule = "tolerance_rule"
    case sigmaMax = "sigma_max", sigmaMin = "sigma_min", cond
    case rcondEstimate = "rcond_estimate", rcondRoute = "rcond_route"
    case effectiveRank = "effective_rank", stableRank = "stable_rank"
    case zeroRows = "zero_rows", zeroColumns = "zero_columns", symmetric
    case choleskyFp32 = "cholesky_fp32", choleskyFp64 = "cholesky_fp64", seconds
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(source, forKey: .source)
    try c.encode(rows, forKey: .rows)
    try c.encode(columns, forKey: .columns)
    try c.encode(precision, forKey: .precision)
    try c.encode(rank, forKey: .rank)
    try c.encode(tolerance, forKey: .tolerance)
    try c.encode(toleranceRule, forKey: .toleranceRule)
    try c.encode(sigmaMax, forKey: .sigmaMax)
    try c.encode(sigmaMin, forKey: .sigmaMin)
    try c.encode(cond, forKey: .cond)  // null when infinite
    try c.encode(rcondEstimate, forKey: .rcondEstimate)
    try c.encode(rcondRoute, forKey: .rcondRoute)
    try c.encode(effectiveRank, forKey: .effectiveRank)
    try c.encode(stableRank, forKey: .stableRank)
    try c.encode(zeroRows, forKey: .zeroRows)
    try c.encode(zeroColumns, forKey: .zeroColumns)
    try c.encode(symmetric, forKey: .symmetric)
    try c.encode(choleskyFp32, forKey: .choleskyFp32)
    try c.encode(choleskyFp64, forKey: .choleskyFp64)
    try c.encode(seconds, forKey: .seconds)
  }

  /// Analyses `a` in precision `T`.
  /// - Parameters:
  ///   - atol, rtol: rank tolerance `max(atol, rtol * sigma_max)`; `rtol` defaults to
  ///     `max(m, n) * eps` of `T`.
  ///   - progress: called with a phase name before each expensive step.
  public static func analyze<T: LinalgScalar>(
    _ a: Matrix<T>, source: String, atol: Double = 0, rtol: Double? = nil,
    progress: (String) -> Void = { _ in }
  ) throws(LinalgError) -> MatrixAnalysis {
    let start = Date()
    guard !a.isEmpty else { throw .empty(operation: "analyze \(source)") }
    try a.checkFinite("analyze \(source)")
    progress("singular values (\(a.shapeDescription), \(T.precisionName))")
    let summary = try a.spectrumSummary(atol: T(atol), rtol: rtol.map { T($0) })
    let rtolUsed = rtol ?? Double(max(a.rows, a.columns)) * Double(T.ulpOfOne)
    let rule =
      atol > 0 && T(atol) >= T(rtolUsed) * summary.sigmaMax
      ? "atol = \(atol)"
      : (rtol == nil
        ? "sigma_max * max(m, n) * eps(\(T.precisionName)) = sigma_max * \(max(a.rows, a.columns)) * \(T.ulpOfOne)"
        : "sigma_max * rtol, rtol = \(rtolUsed)")
    let symmetric = a.isSquare && isSymmetric(a)
    var rcond: Double? = nil
    var route: String? = nil
    var chol32: String? = nil
    var chol64: String? = nil
    if a.isSquare {
      progress("condition estimate")
      if symmetric {
        let c = try Cholesky(a, check: false)
        if c.isSuccess {
          rcond = Double(try c.reciprocalConditionEstimate())
          route = "\(T.lapackPrefix)potrf + \(T.lapackPrefix)pocon"
        }
        chol32 = outcome(try Cholesky(a.converted(to: Float.self), check: false))
        chol64 = outcome(try Cholesky(a.converted(to: Double.self), check: false))
      }
      if rcond == nil {
        let lu = try LU(a, check: false)
        rcond = Double(try lu.reciprocalConditionEstimate())
        route =
          "\(T.lapackPrefix)getrf + \(T.lapackPrefix)gecon"
          + (lu.isSuccess ? "" : " (exactly singular pivot \(lu.info))")
      }
    }
    let cond = summary.condition
    return MatrixAnalysis(
      source: source, rows: a.rows, columns: a.columns, precision: T.precisionName,
      rank: summary.rank, tolerance: Double(summary.tolerance), toleranceRule: rule,
      sigmaMax: Double(summary.sigmaMax), sigmaMin: Double(summary.sigmaMin),
      cond: cond.isFinite ? Double(cond) : nil, rcondEstimate: rcond, rcondRoute: route,
      effectiveRank: Double(summary.effectiveRank), stableRank: Double(summary.stableRank),
      zeroRows: a.zeroRows.count, zeroColumns: a.zeroColumns.count, symmetric: symmetric,
      choleskyFp32: chol32, choleskyFp64: chol64, seconds: Date().timeIntervalSince(start))
  }

  static func outcome<U: LinalgScalar>(_ c: Cholesky<U>) -> String {
    c.isSuccess ? "ok" : "fails at pivot \(c.info)"
  }

  /// Exact symmetry (the matrices we study are formed symmetric; a tolerance here would hide
  /// a bug upstream).
  static func isSymmetric<T: LinalgScalar>(_ a: Matrix<T>) -> Bool {
    for j in 0..<a.columns { for i in (j + 1)..<max(j + 1, a.rows) where a[i, j] != a[j, i] { return false } }
    return true
  }
}

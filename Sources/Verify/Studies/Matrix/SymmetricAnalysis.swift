import Foundation
import Linalg

/// Rank and conditioning of a symmetric positive semidefinite matrix (`C0`, `C_eff`, `D`),
/// by one of two routes:
///
/// - **fast** (default): `lambda_max` by Lanczos; rank by pivoted Cholesky (`?pstrf`) with
///   the tolerance `d_k * eps * lambda_max` (the SVD default rule with `sigma_max =
///   lambda_max`); Cholesky in fp32 and fp64; `?pocon`; `lambda_min` by Lanczos on `A^-1`
///   through the fp64 Cholesky factor when it exists. `O(n^3 / 3)` per factorization.
/// - **spectrum**: all eigenvalues (`?syevd`); rank counts eigenvalues above the same
///   tolerance; adds the effective rank. `O(4 n^3 / 3)` and more memory traffic.
public struct SymmetricReport: Codable, Sendable {
  public var route: String
  public var n: Int
  public var rank: Int
  public var tolerance: Double
  public var toleranceRule: String
  public var precision: String
  public var eigMin: Double?
  public var eigMax: Double
  /// `eig_max / eig_min`; null when `eig_min` is unknown (fast route, Cholesky failed) or <= 0.
  public var cond: Double?
  public var rcondEstimate: Double?
  public var effectiveRank: Double?
  public var stableRank: Double
  public var choleskyFp32: String
  public var choleskyFp64: String
  public var deadCoordinates: Int
  public var mpCondPrediction: Double?
  /// All eigenvalues, ascending (spectrum route only; not encoded in JSON).
  public var eigenvalues: [Double]? = nil
  /// How `eig_min` was obtained, or why it is missing.
  public var eigMinNote: String

  enum CodingKeys: String, CodingKey {
    case route, n, rank, tolerance, precision, cond
    case toleranceRule = "tolerance_rule"
    case eigMin = "eig_min", eigMax = "eig_max"
    case rcondEstimate = "rcond_estimate", effectiveRank = "effective_rank", stableRank = "stable_rank"
    case choleskyFp32 = "cholesky_fp32", choleskyFp64 = "cholesky_fp64"
    case deadCoordinates = "dead_coordinates", mpCondPrediction = "mp_cond_prediction"
    case eigMinNote = "eig_min_note"
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(route, forKey: .route)
    try c.encode(n, forKey: .n)
    try c.encode(rank, forKey: .rank)
    try c.encode(tolerance, forKey: .tolerance)
    try c.encode(toleranceRule, forKey: .toleranceRule)
    try c.encode(precision, forKey: .precision)
    try c.encode(eigMin, forKey: .eigMin)
    try c.encode(eigMax, forKey: .eigMax)
    try c.encode(cond, forKey: .cond)
    try c.encode(rcondEstimate, forKey: .rcondEstimate)
    try c.encode(effectiveRank, forKey: .effectiveRank)
    try c.encode(stableRank, forKey: .stableRank)
    try c.encode(choleskyFp32, forKey: .choleskyFp32)
    try c.encode(choleskyFp64, forKey: .choleskyFp64)
    try c.encode(deadCoordinates, forKey: .deadCoordinates)
    try c.encode(mpCondPrediction, forKey: .mpCondPrediction)
    try c.encode(eigMinNote, forKey: .eigMinNote)
  }

  public static func analyze(
    _ a: Matrix<Double>, spectrum: Bool, mpPrediction: Double?, progress: (String) -> Void = { _ in }
  ) throws(LinalgError) -> SymmetricReport {
    try a.checkSquareFinite("symmetric analysis")
    let n = a.rows
    let eps = Double.ulpOfOne
    let dead = (0..<n).filter { a[$0, $0] == 0 }.count
    let fro = a.norm(.frobenius)
    progress("Cholesky fp64 (n = \(n))")
    let c64 = try Cholesky(a, check: false)
    let chol64 = c64.isSuccess ? "ok" : "fails at pivot \(c64.info)"
    progress("Cholesky fp32 (n = \(n))")
    let c32 = try Cholesky(a.converted(to: Float.self), check: false)
    let chol32 = c32.isSuccess ? "ok" : "fails at pivot \(c32.info)"
    let rcond = c64.isSuccess ? Double(try c64.reciprocalConditionEstimate()) : nil

    if spectrum {
      progress("eigenvalues (n = \(n))")
      let e = try a.symmetricEigenvalues()
      let lmax = e.last!
      let tol = Double(n) * eps * Swift.max(abs(lmax), abs(e.first!))
      let rank = e.filter { $0 > tol }.count
      let pos = e.filter { $0 > 0 }
      let total = pos.reduce(0, +)
      let entropy = pos.reduce(0.0) { $0 - ($1 / total) * log($1 / total) }
      let lmin = e.first!
      return SymmetricReport(
        route: "spectrum (dsyevd)", n: n, rank: rank, tolerance: tol,
        toleranceRule: "eig_max * n * eps(fp64) = eig_max * \(n) * \(eps)", precision: "fp64",
        eigMin: lmin, eigMax: lmax, cond: lmin > 0 ? lmax / lmin : nil, rcondEstimate: rcond,
        effectiveRank: exp(entropy), stableRank: fro * fro / (lmax * lmax), choleskyFp32: chol32, choleskyFp64: chol64,
        deadCoordinates: dead, mpCondPrediction: mpPrediction, eigenvalues: e,
        eigMinNote: lmin > tol
          ? "smallest eigenvalue (dsyevd)" : "smallest eigenvalue is below the rank tolerance: noise")
    }

    progress("lambda_max by Lanczos (n = \(n))")
    let top = try lanczosLargestEigenvalue(n: n, rtol: 1e-8) { (x: [Double]) in try! a.apply(x) }
    let lmax = top.value
    let tol = Double(n) * eps * lmax
    progress("pivoted Cholesky rank (n = \(n))")
    let pc = try PivotedCholesky(a, tolerance: tol)
    var lmin: Double? = nil
    var note =
      "unknown: fp64 Cholesky fails (pivot \(c64.info)), so C^-1 cannot be applied; rank \(pc.rank) < \(n) says lambda_min <= tolerance"
    if c64.isSuccess {
      progress("lambda_min by Lanczos on the inverse (n = \(n))")
      let inv = try lanczosLargestEigenvalue(n: n, maxSteps: 200, rtol: 1e-6) { (x: [Double]) in try! c64.solve(x) }
      lmin = 1 / inv.value
      note =
        "Lanczos on C^-1 (\(inv.steps) steps, relative residual bound \(String(format: "%.1e", inv.residualBound / inv.value)))"
    }
    // dpstrf's last pivot (a Schur complement) is >= lambda_min, so pivoted Cholesky can count
    // an eigenvalue below the tolerance as rank; Lanczos' lambda_min catches that case.
    var rank = pc.rank
    if let l = lmin, l <= tol, rank == n {
      rank = n - 1
      note += "; lambda_min <= tolerance, so rank <= n - 1 (dpstrf alone said n; --spectrum counts exactly)"
    }
    return SymmetricReport(
      route: "fast (Lanczos + dpstrf + dpotrf/dpocon)", n: n, rank: rank, tolerance: tol,
      toleranceRule: "eig_max * n * eps(fp64) = eig_max * \(n) * \(eps), applied to dpstrf's pivots",
      precision: "fp64", eigMin: lmin, eigMax: lmax, cond: lmin.flatMap { $0 > 0 ? lmax / $0 : nil },
      rcondEstimate: rcond, effectiveRank: nil, stableRank: fro * fro / (lmax * lmax), choleskyFp32: chol32,
      choleskyFp64: chol64, deadCoordinates: dead, mpCondPrediction: mpPrediction, eigMinNote: note)
  }
}

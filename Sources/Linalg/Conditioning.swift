import Foundation

/// Rank and conditioning numbers computed from a set of singular values.
///
/// **Rank tolerance.** As in Julia's `rank(A; atol, rtol)`: singular values `> max(atol,
/// rtol * sigma_max)` count. The default is `atol = 0`, `rtol = max(m, n) * eps`, i.e. the
/// tolerance `sigma_max * max(m, n) * eps` of the working precision (numpy's `matrix_rank`
/// default). Every result carries the tolerance it used.
public struct SpectrumSummary<T: LinalgScalar>: Sendable {
  /// Singular values, descending.
  public let singularValues: [T]
  /// `max(m, n)` of the matrix the values came from (for the default tolerance).
  public let maxDimension: Int
  public let rank: Int
  public let tolerance: T

  public init(singularValues s: [T], maxDimension: Int, atol: T = 0, rtol: T? = nil) {
    let sorted = s.sorted(by: >)
    let smax = sorted.first ?? 0
    let rt = rtol ?? T(maxDimension) * T.ulpOfOne
    let tol = Swift.max(atol, rt * smax)
    self.singularValues = sorted
    self.maxDimension = maxDimension
    self.tolerance = tol
    self.rank = sorted.filter { $0 > tol }.count
  }

  public var sigmaMax: T { singularValues.first ?? 0 }
  public var sigmaMin: T { singularValues.last ?? 0 }
  /// `sigma_max / sigma_min` (infinite for an exactly singular matrix).
  public var condition: T { sigmaMin == 0 ? .infinity : sigmaMax / sigmaMin }
  /// `exp(H)` with `H` the Shannon entropy of `p_i = sigma_i / Σ sigma` (Roy & Vetterli).
  public var effectiveRank: T {
    let total = singularValues.reduce(T(0), +)
    guard total > 0 else { return 0 }
    var h = 0.0
    for s in singularValues where s > 0 {
      let p = Double(s / total)
      h -= p * log(p)
    }
    return T(exp(h))
  }
  /// `||A||_F^2 / ||A||_2^2 = Σ sigma_i^2 / sigma_max^2`.
  public var stableRank: T {
    guard sigmaMax > 0 else { return 0 }
    return singularValues.reduce(T(0)) { $0 + ($1 / sigmaMax) * ($1 / sigmaMax) }
  }
}

extension Matrix {
  /// The default rank tolerance `sigma_max * max(m, n) * eps`.
  public static func defaultRankTolerance(sigmaMax: T, rows: Int, columns: Int) -> T {
    sigmaMax * T(Swift.max(rows, columns)) * T.ulpOfOne
  }

  /// Numerical rank from the singular values (see ``SpectrumSummary`` for the tolerance).
  public func rank(atol: T = 0, rtol: T? = nil) throws(LinalgError) -> Int {
    try spectrumSummary(atol: atol, rtol: rtol).rank
  }

  /// Singular values with rank, condition, effective and stable rank.
  public func spectrumSummary(atol: T = 0, rtol: T? = nil) throws(LinalgError) -> SpectrumSummary<T> {
    SpectrumSummary(
      singularValues: try singularValues(), maxDimension: Swift.max(rows, columns), atol: atol, rtol: rtol)
  }

  /// The 2-norm condition number `sigma_max / sigma_min` (O(n^3) through the SVD).
  public func condition2() throws(LinalgError) -> T { try spectrumSummary().condition }

  /// The cheap reciprocal condition estimate: `?pocon` after Cholesky when `A` is SPD
  /// (`symmetricPositiveDefinite: true`), otherwise `?gecon` after LU. Returns 0 when the
  /// factorization breaks down (the matrix is singular or indefinite in this precision).
  public func reciprocalConditionEstimate(symmetricPositiveDefinite: Bool) throws(LinalgError) -> T {
    if symmetricPositiveDefinite {
      let c = try Cholesky(self, check: false)
      return c.isSuccess ? try c.reciprocalConditionEstimate() : 0
    }
    let lu = try LU(self, check: false)
    return try lu.reciprocalConditionEstimate()
  }
}

/// The two routes to the spectrum of a Gram matrix `C = K Kᵀ` (e.g. `C0 = K0 K0ᵀ`).
///
/// - ``eigenvaluesOfGram(_:)`` forms `C` (syrk) and takes its eigenvalues: cheap, but every
///   eigenvalue carries an absolute error of about `n eps ||C||_2 = n eps sigma_max(K)^2`, so
///   eigenvalues below that are lost (and may come out negative).
/// - ``squaredSingularValues(_:)`` takes the singular values of `K` itself: each `sigma_i`
///   has absolute error about `eps sigma_max(K)`, so `sigma_i^2` keeps relative accuracy
///   down to `(eps sigma_max)^2`: the square of the first route's floor.
public enum GramSpectrum {
  /// Eigenvalues of `K Kᵀ`, descending.
  public static func eigenvaluesOfGram<T: LinalgScalar>(_ k: Matrix<T>) throws(LinalgError) -> [T] {
    try k.checkFinite("GramSpectrum")
    return try k.gram().symmetricEigenvalues().reversed()
  }

  /// `sigma_i(K)^2`, descending, padded with zeros to `K.rows` values.
  public static func squaredSingularValues<T: LinalgScalar>(_ k: Matrix<T>) throws(LinalgError) -> [T] {
    let s = try k.singularValues().map { $0 * $0 }
    return s + [T](repeating: 0, count: Swift.max(0, k.rows - s.count))
  }
}

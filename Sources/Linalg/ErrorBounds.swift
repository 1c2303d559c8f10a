import Foundation

/// A-posteriori error bounds of a computed solution `X` of `A X = B`, column by column, as
/// LAPACK's `?porfs`/`?syrfs` compute them, but for the given `X` (those routines first
/// refine `X` and bound the refined one; here `X` is what is being judged, so it is left as it is).
public struct SolutionErrorBounds: Sendable {
  /// `FERR_j`, a bound on `||x_j - x_j*||_∞ / ||x_j||_∞`:
  /// `|| |A⁻¹| (|r_j| + (n+1) eps (|A| |x_j| + |b_j|)) ||_∞ / ||x_j||_∞`
  /// (Higham, ASNA 2nd ed., eq. (7.31)); the norm of `|A⁻¹| w` is estimated with Hager's
  /// method as refined by Higham (LAPACK `?lacn2`), which is almost always within a factor 3.
  public var forward: [Double]
  /// `BERR_j`, the componentwise backward error `max_i |r_j|_i / (|A| |x_j| + |b_j|)_i`.
  public var backward: [Double]

  /// Bounds for `X` given `A`, `B` and `solve(M) = A⁻¹ M` (any factorization of `A`; it is used
  /// only to estimate norms of `|A⁻¹|`). `A` must be symmetric (only then is `A⁻ᵀ = A⁻¹`,
  /// which the estimator uses).
  public init<T: LinalgScalar>(
    symmetric a: Matrix<T>, b: Matrix<T>, x: Matrix<T>, solve: (Matrix<T>) throws(LinalgError) -> Matrix<T>
  ) throws(LinalgError) {
    let n = a.rows
    guard a.columns == n, b.rows == n, x.rows == n, b.columns == x.columns else {
      throw .dimensionMismatch(
        operation: "SolutionErrorBounds", expected: "A n x n, B and X n x m",
        got: "A \(a.shapeDescription), B \(b.shapeDescription), X \(x.shapeDescription)")
    }
    try a.checkFinite("SolutionErrorBounds A")
    try b.checkFinite("SolutionErrorBounds B")
    try x.checkFinite("SolutionErrorBounds X")
    let m = x.columns
    if n == 0 || m == 0 {
      forward = [Double](repeating: 0, count: m)
      backward = forward
      return
    }
    let r = b - (try Matrix.multiply(a, x))
    let absA = Matrix<T>(rows: n, columns: n, storage: a.storage.map { abs($0) })
    let absX = Matrix<T>(rows: n, columns: m, storage: x.storage.map { abs($0) })
    let ax = try Matrix.multiply(absA, absX)
    let eps = Double(T.ulpOfOne) / 2  // unit roundoff, as LAPACK's dlamch('Epsilon')
    let safe = Double(T.leastNormalMagnitude) * Double(n + 1)
    var w = Matrix<T>(rows: n, columns: m)
    var berr = [Double](repeating: 0, count: m)
    for j in 0..<m {
      for i in 0..<n {
        let denom = Double(ax[i, j]) + Double(abs(b[i, j]))
        let ri = Double(abs(r[i, j]))
        if denom > safe { berr[j] = max(berr[j], ri / denom) } else if ri > 0 { berr[j] = .infinity }
        w[i, j] = T(ri + Double(n + 1) * eps * denom)
      }
    }
    let est = try inverseWeightedNormEstimates(weights: w, solve: solve)
    forward = (0..<m).map { j in
      let xn = (0..<n).reduce(0.0) { max($0, Double(absX[$1, j])) }
      return xn > 0 ? min(est[j] / xn, .infinity) : (est[j] > 0 ? .infinity : 0)
    }
    backward = berr
  }
}

/// For each column `w` (entries >= 0) of `weights`, an estimate of
/// `|| |A⁻¹| w ||_∞ = || A⁻¹ diag(w) ||_∞ = || diag(w) A⁻¹ ||_1` for a symmetric `A` given by
/// `solve(M) = A⁻¹ M`. Hager's 1-norm estimator with Higham's safeguards (at most 5 sweeps,
/// stop when the sign vector repeats or the estimate stops growing, then the alternating test
/// vector `x_i = ±(1 + (i-1)/(n-1))`), started from `1/n` and from `restarts` seeded random
/// sign vectors (the largest result is kept: a cheap form of Higham and Tisseur's block
/// estimator, which fails far less often than a single start), all columns at once so that each
/// sweep is one matrix solve. Each estimate is a lower bound of the true norm, usually within a
/// factor 3.
public func inverseWeightedNormEstimates<T: LinalgScalar>(
  weights w: Matrix<T>, restarts: Int = 2, solve: (Matrix<T>) throws(LinalgError) -> Matrix<T>
) throws(LinalgError) -> [Double] {
  let n = w.rows
  let m = w.columns
  if n == 0 || m == 0 { return [Double](repeating: 0, count: m) }
  var best = try hagerEstimates(weights: w, start: nil, solve: solve)
  var state: UInt64 = 0x2545_F491_4F6C_DD1D
  for _ in 0..<max(0, restarts) {
    var x0 = Matrix<T>(rows: n, columns: m)
    for k in 0..<(n * m) {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      x0.storage[k] = T((state & 1 == 0 ? 1.0 : -1.0) / Double(n))
    }
    let e = try hagerEstimates(weights: w, start: x0, solve: solve)
    for j in 0..<m { best[j] = max(best[j], e[j]) }
  }
  return best
}

/// One run of Hager's estimator from `start` (default: every entry 1/n).
func hagerEstimates<T: LinalgScalar>(
  weights w: Matrix<T>, start: Matrix<T>?, solve: (Matrix<T>) throws(LinalgError) -> Matrix<T>
) throws(LinalgError) -> [Double] {
  let n = w.rows
  let m = w.columns
  // G = diag(w) A⁻¹:  G x = w ∘ A⁻¹x,  Gᵀ x = A⁻¹ (w ∘ x).
  func weighted(_ y: Matrix<T>) -> Matrix<T> {
    Matrix(rows: n, columns: m, storage: zip(y.storage, w.storage).map { $0 * $1 })
  }
  func norm1(_ y: Matrix<T>, _ j: Int) -> Double { (0..<n).reduce(0.0) { $0 + Double(abs(y[$1, j])) } }
  var x = start ?? Matrix<T>(rows: n, columns: m, storage: [T](repeating: T(1.0 / Double(n)), count: n * m))
  var est = [Double](repeating: 0, count: m)
  var done = [Bool](repeating: false, count: m)
  var lastSigns = [[Bool]](repeating: [], count: m)
  var lastIndex = [Int](repeating: -1, count: m)
  for sweep in 0..<5 {
    let y = weighted(try solve(x))
    var xi = Matrix<T>(rows: n, columns: m)
    for j in 0..<m where !done[j] {
      let e = norm1(y, j)
      let signs = (0..<n).map { y[$0, j] >= 0 }
      if sweep > 0 && (e <= est[j] || signs == lastSigns[j]) {
        est[j] = max(est[j], e)
        done[j] = true
        continue
      }
      est[j] = e
      lastSigns[j] = signs
      for i in 0..<n { xi[i, j] = signs[i] ? 1 : -1 }
    }
    if done.allSatisfy({ $0 }) { break }
    let z = try solve(weighted(xi))
    for j in 0..<m where !done[j] {
      var best = 0
      for i in 1..<n where abs(z[i, j]) > abs(z[best, j]) { best = i }
      if sweep > 0 && best == lastIndex[j] {
        done[j] = true
        continue
      }
      lastIndex[j] = best
      for i in 0..<n { x[i, j] = i == best ? 1 : 0 }
    }
    if done.allSatisfy({ $0 }) { break }
  }
  // Higham's extra test vector guards against the estimator's known bad cases.
  let alt = Matrix<T>(rows: n, columns: m) { i, _ in
    T((i % 2 == 0 ? 1.0 : -1.0) * (1 + (n > 1 ? Double(i) / Double(n - 1) : 0)))
  }
  let ya = weighted(try solve(alt))
  for j in 0..<m { est[j] = max(est[j], 2 * norm1(ya, j) / Double(3 * n)) }
  return est
}

extension Cholesky {
  /// ``SolutionErrorBounds`` of `X` for `A X = B`, `A` the matrix this factors.
  public func errorBounds(a: Matrix<T>, b: Matrix<T>, x: Matrix<T>) throws(LinalgError) -> SolutionErrorBounds {
    try SolutionErrorBounds(symmetric: a, b: b, x: x) { (m: Matrix<T>) throws(LinalgError) in try self.solve(m) }
  }
}

extension LDLT {
  /// ``SolutionErrorBounds`` of `X` for `A X = B`, `A` the (symmetric indefinite) matrix this factors.
  public func errorBounds(a: Matrix<T>, b: Matrix<T>, x: Matrix<T>) throws(LinalgError) -> SolutionErrorBounds {
    try SolutionErrorBounds(symmetric: a, b: b, x: x) { (m: Matrix<T>) throws(LinalgError) in try self.solve(m) }
  }
}

import Editing
import Foundation
import Linalg

/// A symmetric system `S X = B` whose exact solutions the routes approximate, with an fp64
/// factorization of `S` used only to bound forward errors (``SolutionErrorBounds``): every
/// route's result, however computed, is judged by its own residual on this system.
struct BoundingSystem {
  let name: String
  let matrix: Matrix<Double>
  let factorization: String
  let solve: (Matrix<Double>) throws(LinalgError) -> Matrix<Double>
  /// LAPACK's 1-norm condition estimate from the same factorization (infinite if unavailable).
  let kappa: Double

  /// Cholesky in fp64, Bunch-Kaufman LDLᵀ when that fails; nil when both fail (singular).
  init?(name: String, matrix: Matrix<Double>) {
    self.name = name
    self.matrix = matrix
    if let c = try? Cholesky(matrix, check: false), c.isSuccess {
      factorization = "Cholesky"
      solve = { (m: Matrix<Double>) throws(LinalgError) in try c.solve(m) }
      kappa = (try? c.reciprocalConditionEstimate()).map { $0 > 0 ? 1 / $0 : .infinity } ?? .infinity
    } else if let f = try? LDLT(matrix, check: false), f.isSuccess {
      factorization = "LDL^T"
      solve = { (m: Matrix<Double>) throws(LinalgError) in try f.solve(m) }
      kappa = (try? f.reciprocalConditionEstimate()).map { $0 > 0 ? 1 / $0 : .infinity } ?? .infinity
    } else {
      return nil
    }
  }

  /// FERR of each column of `x` (relative to that column's ∞-norm); nil if not computable.
  func forwardBounds(x: Matrix<Double>, b: Matrix<Double>) -> [Double]? {
    try? SolutionErrorBounds(symmetric: matrix, b: b, x: x, solve: solve).forward
  }

  /// Normwise backward error `||S X - B||_F / (||S||_F ||X||_F + ||B||_F)` of `x`.
  func backwardError(x: Matrix<Double>, b: Matrix<Double>) -> Double? {
    guard let sx = try? Matrix.multiply(matrix, x) else { return nil }
    return (sx - b).norm(.frobenius) / (matrix.norm(.frobenius) * x.norm(.frobenius) + b.norm(.frobenius))
  }
}

/// Hager's estimator is a lower bound of the norm it estimates and "almost always within a
/// factor 3" (Higham, ASNA 2nd ed., section 15.3): routes are held to 3x their FERR bounds.
let estimatorFactor = 3.0

/// The ∞-norm of column `j`.
func columnMaxNorm(_ m: Matrix<Double>, _ j: Int) -> Double {
  (0..<m.rows).reduce(0.0) { max($0, abs(m[$1, j])) }
}

/// What a route claims about its own accuracy: its normwise backward error on the bounding
/// system must not exceed `claim` (a direct, backward-stable route: LAPACK's test threshold
/// `30 n eps`; a converged Krylov route: its stopping `rtol` plus the rounding of the residual,
/// `rtol + 30 n eps`). A result with a small FERR but a backward error above its claim (a route
/// that solved the wrong equations and knows it by its residual) disagrees.
struct AccuracyClaim {
  var claim: Double
  var backwardError: Double
}

/// Compares `x` with `ref` column by column: column `j` agrees when
/// `||x_j - ref_j||_∞ / ||ref_j||_∞ <= 3 (e_j ||x_j||_∞ / ||ref_j||_∞ + eRef_j)`, the sum of the two
/// results' forward error bounds (each relative to its own column). Sets the route's
/// Frobenius `relativeDifference`, `tolerance` (the largest column bound), `boundRatio`
/// (largest difference / bound) and `agrees` (nil when no bound exists or a bound reaches 1:
/// then no digit is guaranteed and agreement cannot be judged).
func judge(
  _ route: SolveRoute, _ x: Matrix<Double>?, against ref: Matrix<Double>?, bounds e: [Double]?,
  refBounds eRef: [Double]?, claim: AccuracyClaim? = nil
) -> SolveRoute {
  var route = route
  guard let x, let ref, x.rows == ref.rows, x.columns == ref.columns else { return route }
  route.relativeDifference = (x - ref).norm(.frobenius) / max(ref.norm(.frobenius), .leastNormalMagnitude)
  guard let e, let eRef, e.count == x.columns, eRef.count == x.columns else { return route }
  var tol = 0.0
  var ratio = 0.0
  for j in 0..<x.columns {
    let rn = max(columnMaxNorm(ref, j), .leastNormalMagnitude)
    var d = 0.0
    for i in 0..<x.rows { d = max(d, abs(x[i, j] - ref[i, j])) }
    let bound = estimatorFactor * (e[j] * columnMaxNorm(x, j) / rn + eRef[j])
    tol = max(tol, bound)
    ratio = max(ratio, bound > 0 ? d / rn / bound : (d == 0 ? 0 : .infinity))
  }
  route.tolerance = min(tol, 1)
  route.boundRatio = ratio
  route.agrees = tol < 1 ? ratio <= 1 : nil
  if let claim {
    route.systemBackwardError = claim.backwardError
    route.claimedBackwardError = claim.claim
    if claim.backwardError > claim.claim { route.agrees = false }
  }
  return route
}

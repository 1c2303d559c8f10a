/// The largest eigenvalue of a symmetric operator by Lanczos with full reorthogonalisation.
public struct LanczosExtreme<T: LinalgScalar>: Sendable {
  /// The largest Ritz value: a lower bound on `lambda_max` (in exact arithmetic).
  public let value: T
  /// `|beta_k s_k|`: some eigenvalue of the operator lies within this distance of
  /// ``value`` (Paige's bound for symmetric operators).
  public let residualBound: T
  public let steps: Int
  public let converged: Bool
}

/// Runs Lanczos on the symmetric `n x n` operator `apply` from a seeded start vector until
/// the residual bound of the largest Ritz value is `<= rtol * |value|` or `maxSteps` steps.
///
/// Cost: one operator application and `O(n k)` reorthogonalisation per step. Applied to
/// `C0` it gives `lambda_max(C0)`; applied to `C0^-1` (via a Cholesky solve) it gives
/// `1 / lambda_min(C0)`: the extreme eigenvalues without the `O(n^3)` spectrum.
public func lanczosLargestEigenvalue<T: LinalgScalar>(
  n: Int, maxSteps: Int = 80, rtol: T = 1e-6, seed: UInt = 1, apply: ([T]) -> [T]
) throws(LinalgError) -> LanczosExtreme<T> {
  guard n > 0 else { throw .empty(operation: "lanczos") }
  guard maxSteps >= 1, rtol > 0 else {
    throw .invalidArgument(operation: "lanczos", detail: "maxSteps >= 1 and rtol > 0 required")
  }
  let rng = GSLRandom(seed: seed)
  var q = (0..<n).map { _ in T(rng.gaussian()) }
  let qn = Vec.norm(q)
  q = q.map { $0 / qn }
  var basis: [[T]] = [q]
  var alphas: [T] = []
  var betas: [T] = []
  let kMax = Swift.min(maxSteps, n)
  var best = LanczosExtreme<T>(value: 0, residualBound: .infinity, steps: 0, converged: false)
  for k in 0..<kMax {
    var w = apply(basis[k])
    guard w.count == n else {
      throw .dimensionMismatch(operation: "lanczos", expected: "operator output of length \(n)", got: "\(w.count)")
    }
    if let i = w.firstIndex(where: { !$0.isFinite }) {
      throw .nonFinite(operation: "lanczos operator output", row: i, column: 0, value: Double(w[i]))
    }
    let a = Vec.dot(basis[k], w)
    alphas.append(a)
    // full reorthogonalisation (twice is enough, Kahan-Parlett)
    for _ in 0..<2 { for v in basis { Vec.axpy(-Vec.dot(v, w), v, &w) } }
    let b = Vec.norm(w)
    // Ritz values of the k+1 tridiagonal
    let m = k + 1
    var t = Matrix<T>(rows: m, columns: m)
    for i in 0..<m { t[i, i] = alphas[i] }
    for i in 0..<(m - 1) { t[i + 1, i] = betas[i]; t[i, i + 1] = betas[i] }
    let e = try SymmetricEigen(t)
    let theta = e.values[m - 1]
    let bound = abs(b * e.vectors[m - 1, m - 1])
    best = LanczosExtreme(value: theta, residualBound: bound, steps: m, converged: bound <= rtol * abs(theta))
    if best.converged || b == 0 || k == kMax - 1 {
      if b == 0 { best = LanczosExtreme(value: theta, residualBound: 0, steps: m, converged: true) }
      break
    }
    betas.append(b)
    basis.append(w.map { $0 / b })
  }
  return best
}
